"""The one place for the project's constants: CRSs, hierarchy levels, categories, sources,
case states, priorities, SLA defaults and four-visit categories (roles and what they may do:
``access.policy``).

Every code here is a stable English key; Chinese and English labels live beside it so that
pages and reports never spell a label themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Coordinate reference systems -------------------------------------------------------
#: Storage CRS of every geometry in hierarchy.gpkg and the case store: CGCS2000 geographic.
STORAGE_CRS = "EPSG:4490"
#: Display CRS handed to Leaflet (WGS84; CGCS2000 differs by centimetres at map scale).
DISPLAY_CRS = "EPSG:4326"
#: Default metric CRS for areas and distances: CGCS2000 3-degree Gauss-Kruger CM 117E (metres).
DEFAULT_METRIC_CRS = "EPSG:4548"
#: The demo district's delivery CRS (same as the metric default).
DEMO_CRS = "EPSG:4548"
#: Time zone of the case store's naive timestamps (12345 exports are in local time).
LOCAL_TIMEZONE = "Asia/Shanghai"

# --- Hierarchy --------------------------------------------------------------------------
#: Levels from the top down. Every level but ``grids`` is optional in a delivery.
LEVELS: tuple[str, ...] = ("streets", "communities", "grids", "buildings")
#: Parent level of each level.
LEVEL_PARENT: dict[str, str] = {
    "communities": "streets",
    "grids": "communities",
    "buildings": "grids",
}
LEVEL_LABELS: dict[str, dict[str, str]] = {
    "streets": {"zh": "街道", "en": "Street"},
    "communities": {"zh": "社区/村", "en": "Community/village"},
    "grids": {"zh": "网格", "en": "Grid"},
    "buildings": {"zh": "楼栋", "en": "Building"},
}
#: Columns of every normalised hierarchy layer (plus ``geometry``).
HIERARCHY_COLUMNS: tuple[str, ...] = ("code", "name", "parent_code")
#: Area below which gaps/overlaps count as digitising noise, in square metres.
SLIVER_TOLERANCE_M2 = 1.0
#: Incidents outside every grid but within this distance are snapped to the nearest grid (m).
SNAP_DISTANCE_M = 30.0

# --- Incident join statuses -------------------------------------------------------------
JOIN_STATUSES: tuple[str, ...] = (
    "ok",
    "snapped",
    "outside",
    "swapped",
    "missing_coordinates",
    "invalid_coordinates",
)
#: Coordinate systems an incident file may use.
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")


@dataclass(frozen=True)
class Label:
    """A stable key with its Chinese and English labels."""

    key: str
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The label in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.en if lang == "en" else self.zh


# --- Case sources -----------------------------------------------------------------------
SOURCES: dict[str, Label] = {
    s.key: s
    for s in (
        Label("hotline_12345", "12345热线", "12345 hotline"),
        Label("snapshot", "随手拍", "Snap-and-report"),
        Label("patrol", "网格巡查", "Grid patrol"),
        Label("video", "视频/物联感知", "Video/IoT alarm"),
        Label("superior", "上级交办", "Assigned by superior"),
    )
}

# --- Categories: the four arrivals (四到) with sub-categories ----------------------------
CATEGORIES: dict[str, Label] = {
    c.key: c
    for c in (
        Label("emergency", "突发事件", "Emergency"),
        Label("dispute", "矛盾纠纷", "Dispute"),
        Label("hazard", "安全隐患", "Safety hazard"),
        Label("request", "群众诉求", "Citizen request"),
    )
}
SUBCATEGORIES: dict[str, tuple[Label, ...]] = {
    "emergency": (
        Label("fire", "火灾", "Fire"),
        Label("gas_leak", "燃气泄漏", "Gas leak"),
        Label("traffic_accident", "交通事故", "Traffic accident"),
        Label("flooding", "积水内涝", "Flooding"),
        Label("public_health", "公共卫生", "Public health"),
    ),
    "dispute": (
        Label("neighbour", "邻里纠纷", "Neighbour dispute"),
        Label("family", "家庭纠纷", "Family dispute"),
        Label("property_mgmt", "物业纠纷", "Property-management dispute"),
        Label("labour", "劳资纠纷", "Wage dispute"),
        Label("land", "土地纠纷", "Land dispute"),
    ),
    "hazard": (
        Label("fire_safety", "消防隐患", "Fire-safety hazard"),
        Label("building_safety", "房屋安全", "Building safety"),
        Label("gas_safety", "燃气安全", "Gas safety"),
        Label("road_facility", "道路设施", "Road facility"),
        Label("ebike_charging", "电动车违规充电", "Illegal e-bike charging"),
    ),
    "request": (
        Label("sanitation", "环境卫生", "Sanitation"),
        Label("noise", "噪音扰民", "Noise"),
        Label("municipal", "市政设施", "Municipal facilities"),
        Label("property_service", "物业服务", "Property services"),
        Label("policy", "政策咨询", "Policy enquiry"),
        Label("elderly_care", "养老服务", "Elderly care"),
    ),
}
#: Categories whose cases require someone on site (四到): all four.
ARRIVAL_REQUIRED_CATEGORIES: frozenset[str] = frozenset(CATEGORIES)

# --- Priorities ---------------------------------------------------------------------------
PRIORITIES: dict[str, Label] = {
    p.key: p
    for p in (
        Label("urgent", "特急", "Urgent"),
        Label("high", "紧急", "High"),
        Label("normal", "一般", "Normal"),
    )
}

# --- Case states (closed loop) ------------------------------------------------------------
@dataclass(frozen=True)
class State:
    """A case state: stable key, group (``open`` or ``closed``) and labels."""

    key: str
    group: str
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The label in ``lang``."""
        return self.en if lang == "en" else self.zh


STATES: dict[str, State] = {
    s.key: s
    for s in (
        State("reported", "open", "已上报", "Reported"),
        State("registered", "open", "已立案", "Registered"),
        State("voided", "closed", "已作废", "Voided"),
        State("dispatched", "open", "已派遣", "Dispatched"),
        State("returned", "open", "已退单", "Sent back"),
        State("accepted", "open", "已受理", "Accepted"),
        State("on_site", "open", "已到场", "On site"),
        State("handled", "open", "已处置", "Handled"),
        State("rework", "open", "返工", "Rework"),
        State("verified", "open", "已核查", "Verified"),
        State("followed_up", "open", "已回访", "Followed up"),
        State("closed", "closed", "已结案", "Closed"),
        State("archived", "closed", "已归档", "Archived"),
    )
}
OPEN_STATES: frozenset[str] = frozenset(k for k, s in STATES.items() if s.group == "open")

SATISFACTION: dict[str, Label] = {
    s.key: s
    for s in (
        Label("satisfied", "满意", "Satisfied"),
        Label("basically_satisfied", "基本满意", "Basically satisfied"),
        Label("dissatisfied", "不满意", "Dissatisfied"),
    )
}
#: Ratings that count as satisfied in the satisfaction rate.
SATISFIED_RATINGS: frozenset[str] = frozenset({"satisfied", "basically_satisfied"})

# --- Case import (12345 exports): accepted column headers per case field --------------------
#: Field key -> accepted headers (Chinese first, then English; matched case-insensitively).
CASE_IMPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "source_id": ("工单编号", "工单号", "编号", "source_id", "order_id", "id"),
    "source": ("来源渠道", "来源", "source", "channel"),
    "category": ("一级分类", "事件类别", "类别", "category"),
    "subcategory": ("二级分类", "事件小类", "小类", "subcategory"),
    "text": ("诉求内容", "事件描述", "内容", "text", "description"),
    "address": ("事发地址", "地址", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "reporter_name": ("诉求人", "联系人", "姓名", "reporter_name", "reporter"),
    "reporter_phone": ("联系电话", "电话", "手机号", "reporter_phone", "phone"),
    "reported_at": ("受理时间", "上报时间", "reported_at", "received_at"),
    "priority": ("紧急程度", "优先级", "priority"),
}
#: Fields an import file must have a column for.
CASE_IMPORT_REQUIRED: tuple[str, ...] = ("source_id", "category", "lon", "lat", "reported_at")

# --- Deadlines (SLA defaults; overridable in gridcommand.toml [sla]) -----------------------
@dataclass(frozen=True)
class Sla:
    """Deadlines of one category, in minutes from dispatch (``close_working_days`` in days)."""

    arrive_minutes: int
    respond_minutes: int
    close_working_days: int


SLA_DEFAULTS: dict[str, Sla] = {
    "emergency": Sla(arrive_minutes=30, respond_minutes=15, close_working_days=1),
    "dispute": Sla(arrive_minutes=24 * 60, respond_minutes=2 * 60, close_working_days=5),
    "hazard": Sla(arrive_minutes=4 * 60, respond_minutes=60, close_working_days=3),
    "request": Sla(arrive_minutes=24 * 60, respond_minutes=24 * 60, close_working_days=5),
}
#: Priority multipliers applied to the category's deadlines.
PRIORITY_FACTORS: dict[str, float] = {"urgent": 0.5, "high": 0.75, "normal": 1.0}
#: A deadline is "soon due" (yellow) when less than this share of its time is left.
SOON_DUE_SHARE = 0.25

# --- Four visits (四访) ---------------------------------------------------------------------
VISIT_CATEGORIES: dict[str, Label] = {
    v.key: v
    for v in (
        Label("hardship", "困难家庭", "Family in hardship"),
        Label("empty_nest", "空巢老人", "Empty-nest elderly"),
        Label("correction", "社区矫正人员", "Under community correction"),
        Label("rehab", "戒毒康复人员", "In drug rehabilitation"),
    )
}
#: A visit counts as on site when the worker's GPS was within this distance of the building (m).
VISIT_ON_SITE_M = 50.0
#: An arrival (到场) uses the worker's latest GPS fix only when it is at most this old (minutes).
ARRIVAL_FIX_MAX_AGE_MINUTES = 15

# --- Command map -----------------------------------------------------------------------------
#: Above this many matching cases the command map shows per-grid totals instead of points.
POINT_LIMIT = 5_000

# --- Five teams joining the grids (五团进网) --------------------------------------------------------
TEAMS: dict[str, Label] = {
    team.key: team
    for team in (
        Label("party", "党员先锋团", "Party members' vanguard"),
        Label("deputies", "人大代表团", "People's deputies"),
        Label("volunteers", "志愿服务团", "Volunteers"),
        Label("property", "物业帮办团", "Property managers"),
        Label("social", "社工义工团", "Social workers"),
    )
}

# --- Workloads and suggestions -----------------------------------------------------------------
#: A grid worker is overloaded above this many times the mean of open cases over grid workers.
OVERLOAD_RATIO = 1.5
#: Neighbouring grids (for a suggested assignee) lie within this distance of the case's grid, metres.
NEIGHBOUR_GRIDS_M = 200.0

# --- Escalation of overdue cases (超期升级) ---------------------------------------------------------
@dataclass(frozen=True)
class EscalationStep:
    """Escalate a case overdue by at least ``after_hours`` to ``to`` (``chief`` or ``commander``)."""

    level: int
    to: str
    after_hours: float


#: The default escalation ladder (setting ``[[escalation]]``): the community chief as soon as a case
#: is overdue, the command centre after a day.
ESCALATION_STEPS: tuple[EscalationStep, ...] = (EscalationStep(1, "chief", 0.0), EscalationStep(2, "commander", 24.0))
#: How often the app process runs its scheduled jobs (seconds).
JOBS_INTERVAL_SECONDS = 60
#: Seconds the case panel keeps showing what an action did (across the live refreshes that follow).
ACTION_CONFIRMATION_SECONDS = 20

# --- KPI grades -----------------------------------------------------------------------------
#: Rate thresholds for green / yellow grades (below yellow is red).
GRADE_GREEN = 0.95
GRADE_YELLOW = 0.85

# --- Key populations (一键可知): the four visits plus key groups, each with a visit frequency ---------
#: How often a person of a group is due a visit: one cycle a month, two (1st-15th, 16th-end) or
#: one a calendar quarter.
VISIT_FREQUENCIES: dict[str, Label] = {
    f.key: f
    for f in (
        Label("monthly", "每月", "Monthly"),
        Label("fortnightly", "每半月", "Fortnightly"),
        Label("quarterly", "每季度", "Quarterly"),
    )
}
#: Key groups (重点人群) besides the four visits; more in ``[registry.groups]`` (keys of at most 16
#: characters, as stored).
KEY_GROUPS: dict[str, Label] = {
    g.key: g
    for g in (
        Label("petitioner", "信访人员", "Petitioner"),
        Label("mental_illness", "精神障碍患者", "Person with a mental disorder"),
        Label("lonely_elderly", "孤寡老人", "Elderly person living alone"),
        Label("disabled", "残疾人", "Person with a disability"),
        Label("left_behind", "留守儿童", "Left-behind child"),
    )
}
#: Visit frequency of each group by default (``[registry] frequency`` overrides it).
GROUP_FREQUENCIES: dict[str, str] = {
    "hardship": "monthly", "empty_nest": "monthly", "correction": "monthly", "rehab": "monthly",
    "petitioner": "fortnightly", "mental_illness": "fortnightly", "lonely_elderly": "monthly",
    "disabled": "quarterly", "left_behind": "monthly",
}
#: Two consecutive visits of one worker are suspicious when going from one to the other would take
#: more than this speed (km/h) over more than the on-site distance.
VISIT_MAX_SPEED_KMH = 120.0
#: Visits of one worker to at least this many different persons from one position (to 0.1 m) are
#: suspicious.
VISIT_SHARED_POSITION_VISITS = 3
