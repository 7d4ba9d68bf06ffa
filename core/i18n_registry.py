"""UI text of the key-population registry and its visits (四访走访, 一键可知), merged into
:data:`core.i18n.TEXT`."""

from __future__ import annotations

REGISTRY_TEXT: dict[str, dict[str, str]] = {
    "reg_all_groups": {"zh": "全部人员类别", "en": "All groups"},
    "reg_suspicious": {"zh": "存疑走访人数", "en": "Persons with a suspicious visit"},
    "reg_overdue": {"zh": "逾期未访人数", "en": "Overdue"},
    "reg_rules": {"zh": "应访：本期有走访周期到期的在册人员（每月一次；信访、精神障碍等每半月一次；"
                        "残疾人每季度一次，于季末月计入），按期末所在网格统计。到户核实：每个周期都有一次定位在住所 "
                        "{on_site_m:g} 米内、且不存疑的走访。存疑：同一网格员相邻两次走访的移动速度超过 "
                        "{speed:g} km/h，或在同一位置登记了 {shared} 人以上的走访；存疑走访照常显示，但不计入核实。",
                  "en": "Planned: registered persons with a visit cycle ending in the period (monthly; "
                        "petitioners, mental disorders fortnightly; disabilities quarterly, counted in the "
                        "quarter's last month), where they lived at the period's end. Verified: every cycle has a "
                        "visit within {on_site_m:g} m of the home that is not suspicious. Suspicious: one worker's "
                        "consecutive visits faster than {speed:g} km/h, or visits to {shared}+ persons from one "
                        "position; shown, never counted as verified."},
    "reg_trend": {"zh": "近 12 个月走访覆盖率", "en": "Coverage over the last 12 months"},
    "reg_map": {"zh": "各网格走访覆盖（按评级着色）", "en": "Coverage per grid (coloured by grade)"},
    "reg_map_measure": {"zh": "地图显示", "en": "Map shows"},
    "reg_no_planned": {"zh": "本期无应访人员", "en": "Nobody planned"},
    "reg_plan": {"zh": "走访计划", "en": "Visit plan"},
    "reg_plan_worker": {"zh": "责任网格员", "en": "Responsible worker"},
    "reg_plan_all": {"zh": "全部网格员", "en": "All workers"},
    "reg_due_by": {"zh": "应访截止", "en": "Due by"},
    "reg_status": {"zh": "状态", "en": "Status"},
    "reg_status_overdue": {"zh": "逾期", "en": "Overdue"},
    "reg_status_due": {"zh": "待访", "en": "Due"},
    "reg_status_visited": {"zh": "已访未核实", "en": "Visited, not verified"},
    "reg_status_verified": {"zh": "已核实", "en": "Verified"},
    "reg_frequency": {"zh": "走访频次", "en": "Frequency"},
    "reg_recent": {"zh": "最近走访记录", "en": "Latest visits"},
    "reg_at": {"zh": "走访时间", "en": "When"},
    "reg_worker": {"zh": "网格员", "en": "Worker"},
    "reg_distance": {"zh": "距住所(米)", "en": "Distance (m)"},
    "reg_verdict": {"zh": "核验", "en": "Check"},
    "reg_verified": {"zh": "在场核验通过", "en": "verified on site"},
    "reg_not_on_site": {"zh": "未在场", "en": "not on site"},
    "reg_no_position": {"zh": "无定位", "en": "no position"},
    "reg_flag_speed": {"zh": "存疑：移动速度异常", "en": "suspicious: impossible speed"},
    "reg_flag_shared_position": {"zh": "存疑：多次同一位置", "en": "suspicious: shared position"},
    "reg_outcome": {"zh": "走访情况", "en": "Outcome"},
    "reg_no_visits": {"zh": "暂无走访记录。", "en": "No visits yet."},
    "reg_card": {"zh": "人员卡片（一键可知）", "en": "Person card"},
    "reg_card_pick": {"zh": "选择人员", "en": "Person"},
    "reg_card_none": {"zh": "范围内暂无在册人员。", "en": "Nobody registered in your area."},
    "reg_card_group": {"zh": "类别", "en": "Group"},
    "reg_card_name": {"zh": "姓名", "en": "Name"},
    "reg_card_id_number": {"zh": "身份证号", "en": "ID number"},
    "reg_card_phone": {"zh": "联系电话", "en": "Phone"},
    "reg_card_building": {"zh": "楼栋", "en": "Building"},
    "reg_card_worker": {"zh": "责任网格员", "en": "Responsible worker"},
    "reg_card_by_hand": {"zh": "（手动指定）", "en": " (set by hand)"},
    "reg_card_household": {"zh": "同户在册人员", "en": "Others of the household"},
    "reg_card_moves": {"zh": "迁移记录", "en": "Moves"},
    "reg_card_history": {"zh": "走访记录", "en": "Visit history"},
    "reg_card_cases": {"zh": "同一地址在办案件", "en": "Open cases at the same address"},
    "reg_card_no_cases": {"zh": "同一地址暂无在办案件。", "en": "No open case at this address."},
    "reg_card_notes": {"zh": "备注", "en": "Notes"},
    "reg_card_add_note": {"zh": "添加备注", "en": "Add a note"},
    "reg_card_note_saved": {"zh": "备注已保存。", "en": "Note saved."},
    "reg_card_set_worker": {"zh": "指定责任网格员（工号）", "en": "Responsible worker (staff number)"},
    "reg_card_reset_worker": {"zh": "恢复为本网格网格员", "en": "Back to the grid's worker"},
    "reg_card_worker_saved": {"zh": "责任网格员已更新。", "en": "Responsible worker changed."},
    "reg_moved": {"zh": "{at}：{from_grid} → {to_grid}", "en": "{at}: {from_grid} → {to_grid}"},
    "reg_photos": {"zh": "照片", "en": "Photos"},
}
