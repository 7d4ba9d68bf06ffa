"""The 12345 hotline export of the demo district: work orders of the period, numbered and rated."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from _demo_district import STREET_NAME
from _demo_fakes import fake_phone, person_name, weighted_choice
from _demo_table_inputs import TableInputs, timestamp

from core.constants import CATEGORIES, SATISFACTION, SOURCES, SUBCATEGORIES

#: The period of the export (accepted from PERIOD_START to PERIOD_END) and its size.
PERIOD_START = dt.datetime(2026, 4, 15)
PERIOD_END = dt.datetime(2026, 6, 30, 23, 59, 59)
#: The moment the hotline export was taken: work orders closing later are still open.
EXPORT_AT = dt.datetime(2026, 6, 30, 18, 0, 0)
N_INCIDENTS = 2612

#: Two request texts per subcategory; ``{addr}`` is the address without the street's name.
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "fire": ("{addr}有烟冒出，疑似起火，请速派人处置。",
             "{addr}楼道内杂物着火，火势不大，已有居民用灭火器扑救。"),
    "gas_leak": ("{addr}楼道内有明显燃气味，担心泄漏，请尽快派人查看。",
                 "{addr}附近施工挖断燃气管道，现场有气味。"),
    "traffic_accident": ("{addr}门口两车剐蹭，堵塞道路，请协调处理。",
                         "{addr}路口电动车与行人相撞，有人受轻伤。"),
    "flooding": ("{addr}附近路面积水严重，车辆无法通行。",
                 "{addr}地下车库进水，请排水。"),
    "public_health": ("{addr}附近有人员身体不适倒地，请协助联系急救。",
                      "{addr}周边疑似出现食物中毒情况，请核实。"),
    "neighbour": ("{addr}楼上楼下因漏水问题发生争执，请调解。",
                  "{addr}邻居长期占用公共通道堆放杂物，多次沟通无果。"),
    "family": ("{addr}家庭成员因赡养问题发生争吵，请社区调解。",
               "{addr}夫妻纠纷，邻居反映争吵声较大。"),
    "property_mgmt": ("{addr}业主与物业因收费问题发生纠纷。",
                      "{addr}物业停止服务，业主要求协调。"),
    "labour": ("{addr}附近工地拖欠工人工资，工人聚集讨薪。",
               "{addr}某店铺拖欠员工两个月工资。"),
    "land": ("{addr}两户因宅基地边界发生争议，请调解。",
             "{addr}承包地界址不清，村民发生纠纷。"),
    "fire_safety": ("{addr}消防通道被车辆长期占用。",
                    "{addr}楼道内消防栓损坏无水。"),
    "building_safety": ("{addr}外墙瓷砖脱落，存在安全隐患。",
                        "{addr}房屋墙体出现裂缝，居民担心安全。"),
    "gas_safety": ("{addr}餐馆液化气罐存放不规范。",
                   "{addr}居民私拉燃气软管，存在隐患。"),
    "road_facility": ("{addr}门前井盖缺失，夜间行人易跌倒。",
                      "{addr}路灯损坏多日，夜间漆黑。"),
    "ebike_charging": ("{addr}有居民从楼上飞线给电动车充电。",
                       "{addr}楼道内停放电动车并充电。"),
    "sanitation": ("{addr}附近垃圾堆放多日无人清运，气味较大，请尽快处理。",
                   "{addr}绿化带内有建筑垃圾，影响环境。"),
    "noise": ("{addr}附近夜间施工噪音扰民，影响休息。",
              "{addr}广场舞音响声音过大，请协调。"),
    "municipal": ("{addr}自来水管破裂漏水，请维修。",
                  "{addr}路面坑洼破损，请修补。"),
    "property_service": ("{addr}电梯经常故障，物业维修不及时。",
                         "{addr}小区门禁损坏，物业未处理。"),
    "policy": ("咨询{addr}附近居民办理居住证需要哪些材料。",
               "咨询城乡居民医保缴费政策，来电人住{addr}。"),
    "elderly_care": ("{addr}独居老人需要助餐服务，请社区对接。",
                     "{addr}老人咨询居家养老上门服务。"),
}
#: Subcategories that only happen in a community (urban) or only in a village.
_URBAN_ONLY = {"property_mgmt", "property_service"}
_VILLAGE_ONLY = {"land"}
#: Shares of the categories and sources; range of handling hours per category (log-uniform).
_CATEGORY_WEIGHTS = {"emergency": 0.03, "dispute": 0.12, "hazard": 0.16, "request": 0.69}
_SOURCE_WEIGHTS = {"hotline_12345": 0.62, "snapshot": 0.18, "patrol": 0.14, "video": 0.03,
                   "superior": 0.03}
_HANDLE_HOURS = {"emergency": (0.5, 6.0), "dispute": (12.0, 120.0), "hazard": (4.0, 72.0),
                 "request": (4.0, 120.0)}
#: Relative number of incidents accepted in each hour of the day.
_HOUR_WEIGHTS = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.0, 2.2, 2.6, 2.4, 2.0, 1.4, 1.6,
                          2.2, 2.3, 2.1, 1.8, 1.4, 1.3, 1.2, 0.9, 0.6, 0.35])


def _incident_days() -> tuple[list[dt.date], np.ndarray]:
    """Days of the period and the share of incidents of each (fewer at weekends, slowly rising)."""
    days = []
    d = PERIOD_START.date()
    while d <= PERIOD_END.date():
        days.append(d)
        d += dt.timedelta(days=1)
    day_w = np.array([(0.75 if day.weekday() >= 5 else 1.0) * (1 + 0.004 * k)
                      for k, day in enumerate(days)])
    return days, day_w / day_w.sum()


def _incident_place(rng: np.random.Generator, inputs: TableInputs) -> tuple[float, float, bool, str]:
    """``(x, y, urban, address)`` of an incident: near a building (nine in ten, by households)
    or anywhere in the street, then on a road of its grid or in the fields."""
    if rng.random() < 0.9:
        bi = int(rng.choice(len(inputs.buildings), p=inputs.building_share))
        x, y = inputs.building_xy[bi] + rng.normal(0, 12, 2)
        urban = inputs.building_kind[bi] == "楼栋"
        unit = f"{int(rng.integers(1, 5))}单元" if urban else ""
        return x, y, urban, inputs.building_address[bi] + unit
    minx, miny, maxx, maxy = inputs.street.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(inputs.street, x, y):
            break
    hit = inputs.grid_tree.query(shapely.Point(x, y), predicate="intersects")
    gcode = inputs.grid_codes[int(hit.min())]
    urban = inputs.community_kind[gcode[:12]] == "社区"
    cname = inputs.community_name[gcode[:12]]
    if urban:
        return x, y, urban, f"{STREET_NAME}{cname}{int(gcode[-3:])}号网格附近道路"
    side = ["东", "南", "西", "北"][int(rng.integers(4))]
    return x, y, urban, f"{STREET_NAME}{cname}村外{side}侧田间道路"


def _incident(rng: np.random.Generator, inputs: TableInputs,
              day: dt.date) -> tuple[dt.datetime, list[str]]:
    """One work order accepted on ``day``: ``(accepted, row)`` with the number still blank."""
    hour = int(rng.choice(24, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()))
    accepted = dt.datetime.combine(day, dt.time(hour)) + dt.timedelta(
        seconds=int(rng.integers(0, 3600)))
    x, y, urban, addr = _incident_place(rng, inputs)
    cat = weighted_choice(rng, _CATEGORY_WEIGHTS)
    subs = [s for s in SUBCATEGORIES[cat]
            if not (urban and s.key in _VILLAGE_ONLY)
            and not (not urban and s.key in _URBAN_ONLY)]
    sub = subs[int(rng.integers(len(subs)))]
    source = weighted_choice(rng, _SOURCE_WEIGHTS)
    text = _TEMPLATES[sub.key][int(rng.integers(len(_TEMPLATES[sub.key])))].format(
        addr=addr.removeprefix(STREET_NAME))
    lo, hi = _HANDLE_HOURS[cat]
    handled = accepted + dt.timedelta(hours=float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
    closed = timestamp(handled) if handled <= EXPORT_AT else ""
    lon, lat = inputs.lonlat(x, y)
    return accepted, ["", SOURCES[source].zh, CATEGORIES[cat].zh, sub.zh, text, addr, lon, lat,
                      person_name(rng), fake_phone("1390000", int(rng.integers(0, 10000))),
                      timestamp(accepted), closed, ""]


def _rate_incidents(rng: np.random.Generator, rows: list[list[str]]) -> None:
    """Fill in the satisfaction of nine in ten closed work orders (a few dissatisfied)."""
    closed_idx = [i for i, r in enumerate(rows) if r[11]]
    rated = [i for i in closed_idx if rng.random() < 0.9]
    n_bad = max(1, round(0.002 * len(rated)))
    bad = set(int(i) for i in rng.choice(rated, size=n_bad, replace=False))
    for i in rated:
        if i in bad:
            label = SATISFACTION["dissatisfied"].zh
        elif rng.random() < 0.07:
            label = SATISFACTION["basically_satisfied"].zh
        else:
            label = SATISFACTION["satisfied"].zh
        rows[i][12] = label


def incident_rows(rng: np.random.Generator, inputs: TableInputs) -> list[list[str]]:
    """Work orders of the period, numbered ``GDyyyymmddNNNN`` in order of acceptance; three
    located at a building lose their coordinates."""
    days, day_share = _incident_days()
    per_day = rng.multinomial(N_INCIDENTS, day_share)
    shapely.prepare(inputs.street)
    dated = [_incident(rng, inputs, day)
             for day, count in zip(days, per_day, strict=True) for _ in range(int(count))]
    dated.sort(key=lambda r: r[0])
    seq: dict[dt.date, int] = {}
    for accepted, row in dated:
        seq[accepted.date()] = seq.get(accepted.date(), 0) + 1
        row[0] = f"GD{accepted:%Y%m%d}{seq[accepted.date()]:04d}"
    rows = [r for _, r in dated]
    _rate_incidents(rng, rows)
    located = [i for i, r in enumerate(rows) if "单元" in r[5] or "号院" in r[5]]
    for i in rng.choice(located, size=3, replace=False):
        rows[int(i)][6] = ""
        rows[int(i)][7] = ""
    return rows
