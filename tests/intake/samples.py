"""A small 12345 export (rows good and bad, every problem kind once) and its routing rules, shared by
the intake, CLI and audit tests."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.routing import parse_rules
from store.models import Case, CaseEvent

RULES = parse_rules("""
departments = ["住建"]
[[rule]]
category = "hazard"
subcategory = "building_safety"
target = "department:住建"
[[rule]]
target = "grid_worker"
""")

HEADERS = ["工单编号", "来源渠道", "一级分类", "二级分类", "诉求内容", "事发地址", "经度", "纬度", "诉求人", "联系电话",
           "受理时间"]
ROWS = [
    ["GD1", "12345热线", "群众诉求", "噪音扰民", "夜间施工噪音", "民生街1号", "116.585", "35.415", "张三丰",
     "13812345678",
     "2026-11-16 09:00:00"],
    ["GD2", "随手拍", "安全隐患", "房屋安全", "外墙脱落", "民生街2号", "116.595", "35.415", "李四", "13912345678",
     "2026/11/16 10:30"],
    ["GD3", "网格巡查", "矛盾纠纷", "邻里纠纷", "邻里争吵", "城外", "116.70", "35.50", "", "", "2026-11-16 11:00"],
    ["GD4", "12345热线", "天气", "", "下雨了", "", "116.585", "35.415", "", "", "2026-11-16 11:00"],
    ["GD5", "12345热线", "群众诉求", "环境卫生", "垃圾", "", "", "", "", "", "2026-11-16 11:00"],
    ["GD6", "12345热线", "群众诉求", "环境卫生", "垃圾", "", "116.585", "35.415", "", "", "昨天"],
    ["", "12345热线", "群众诉求", "环境卫生", "垃圾", "", "116.585", "35.415", "", "", "2026-11-16 11:00"],
    ["GD1", "12345热线", "群众诉求", "噪音扰民", "重复来电", "民生街1号", "116.585", "35.415", "张三丰", "13812345678",
     "2026-11-16 12:00:00"],
    ["GD7", "12345热线", "突发事件", "噪音扰民", "?", "", "116.585", "35.415", "", "", "2026-11-16 11:00"],
]


def write_csv(path, encoding, headers=HEADERS, rows=ROWS):
    text = ",".join(headers) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def counts(store):
    with store.Session() as s:
        return (s.scalar(select(func.count()).select_from(Case)),
                s.scalar(select(func.count()).select_from(CaseEvent)))
