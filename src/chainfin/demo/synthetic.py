"""A deterministic synthetic region: industrial chains, their tiers, dealers, service firms, banks.

Pure: no database, no clock, no global random state. The same ``(regions, scale, seed)``
gives equal output every time and on every machine, because every draw comes from a
``random.Random`` seeded with a string derived from the seed and nothing iterates a set.
Each region has its own generator, so a region comes out the same whether it is generated
alone or with the others; only the banks and the bank-customer links depend on the
selection.

Sizes. The scale fixes the chains per region and the members per chain, so one region is
about a third of ``all`` (``RegionKey.expand("all")``):

======  =================  ====================  ==========
scale   chains per region  enterprises, ``all``  one region
======  =================  ====================  ==========
small   3                  ≈ 500                 ≈ 170
medium  5                  ≈ 10 000              ≈ 3 300
large   8                  ≈ 100 000             ≈ 33 000
======  =================  ====================  ==========

Every chain has one or two core enterprises, upstream suppliers at tiers 1 to 4 (each
supplier sells to one or two members one tier nearer the core, and a few also to a member of
another chain at the same distance, so tiers computed from the relations are exactly the
tiers drawn), downstream dealers where the industry sells through dealers, and the region's
logistics and warehouse firms sell their services to cores and some tier-1 suppliers.
Names, people and phone numbers are invented; a few well-known trade names are refused
outright, but a drawn name can still match some real small firm by chance.

>>> region = generate([RegionKey.JJJ], Scale.SMALL, seed=7)
>>> region == generate([RegionKey.JJJ], Scale.SMALL, seed=7)
True
>>> region.summary()["by_role"]["bank"] in (4, 5, 6)
True
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache

from chainfin.domain.money import Money
from chainfin.domain.region import RegionLevel, current_regions, lookup
from chainfin.domain.registry import (
    BankRecord,
    ChainRecord,
    EnterpriseRecord,
    Relation,
    RelationRecord,
    Role,
    Side,
    compute_tiers,
)
from chainfin.domain.uscc import CHARSET, make_uscc

MAX_TIER = 4


class RegionKey(StrEnum):
    YRD = "yrd"  # 长三角 Yangtze River Delta
    GBA = "gba"  # 大湾区 Guangdong-Hong Kong-Macao Greater Bay Area (the Guangdong cities)
    JJJ = "jjj"  # 京津冀 Beijing-Tianjin-Hebei

    @classmethod
    def expand(cls, text: str) -> tuple[RegionKey, ...]:
        """``"all"`` means every region; otherwise one key or a comma-separated list such as
        ``"yrd,gba"``. Raises ValueError for an unknown key."""
        text = text.strip().lower()
        if text == "all":
            return tuple(cls)
        keys = tuple(cls(part.strip()) for part in text.split(",") if part.strip())
        if not keys:
            raise ValueError("give a region key (yrd, gba, jjj) or 'all'")
        return keys

    @property
    def label(self) -> str:
        return _REGION_LABELS[self]


class Scale(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


_REGION_LABELS = {RegionKey.YRD: "长三角", RegionKey.GBA: "大湾区", RegionKey.JJJ: "京津冀"}

# GB/T 2260 codes each region covers: whole provinces (xx0000) or single prefectures.
_SCOPES: dict[RegionKey, tuple[str, ...]] = {
    RegionKey.YRD: ("310000", "320000", "330000", "340000"),
    RegionKey.GBA: (
        "440100",  # 广州
        "440300",  # 深圳
        "440400",  # 珠海
        "440600",  # 佛山
        "440700",  # 江门
        "441200",  # 肇庆
        "441300",  # 惠州
        "441900",  # 东莞
        "442000",  # 中山
    ),
    RegionKey.JJJ: ("110000", "120000", "130000"),
}

# Where each region's banks keep their head office.
_BANK_HUBS = {RegionKey.YRD: "310100", RegionKey.GBA: "440300", RegionKey.JJJ: "110100"}

_CHAINS_PER_REGION = {Scale.SMALL: 3, Scale.MEDIUM: 5, Scale.LARGE: 8}
_TIER_FACTOR = {Scale.SMALL: 1, Scale.MEDIUM: 12, Scale.LARGE: 80}
_TIER_BASE = (8, 12, 14, 10)  # suppliers per chain at tiers 1..4, small scale
_DEALER_BASE = 8

# ---------------------------------------------------------------------------------------
# Chain catalogue


@dataclass(frozen=True, slots=True)
class _Part:
    """A kind of firm in a chain: its GB/T 4754 division, words for its name, what it sells,
    and which parts one tier nearer the core it sells to (indices; empty means any)."""

    division: str
    words: tuple[str, ...]
    products: tuple[str, ...]
    feeds: tuple[int, ...] = ()


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _p(division: str, words: str, products: str, feeds: tuple[int, ...] = ()) -> _Part:
    return _Part(division, _words(words), _words(products), feeds)


@dataclass(frozen=True, slots=True)
class _ChainPlan:
    label: str
    core: _Part  # the core's division and name words; products = what it sells to dealers
    tiers: tuple[tuple[_Part, ...], ...]  # upstream tiers 1..4
    dealer: _Part | None = None


_PLANS: dict[str, _ChainPlan] = {
    "nev": _ChainPlan(
        "新能源汽车",
        _p("C36", "新能源汽车 汽车", "新能源乘用车 新能源商用车"),
        (
            (
                _p("C36", "汽车零部件 汽车部件", "座椅总成 车身总成 底盘系统 热管理系统"),
                _p("C38", "动力电池 新能源科技", "动力电池 电池包"),
                _p("C38", "电机 电驱动科技", "驱动电机 电控系统 电驱总成"),
                _p("C39", "汽车电子 智能科技", "智能座舱 车载电子 域控制器"),
            ),
            (
                _p("C38", "电池 能源科技", "电芯 电池模组 电池管理系统", (1,)),
                _p("C38", "线缆 电器", "高压线束 线束 连接器", (0, 1, 2)),
                _p("C33", "金属制品 精密部件", "冲压件 压铸件 金属结构件", (0, 1, 2)),
                _p("C29", "塑胶制品 橡塑", "内饰塑料件 橡胶密封件", (0,)),
                _p("C39", "电子科技 微电子", "功率模块 芯片模组 传感器", (2, 3)),
            ),
            (
                _p("C26", "新材料 化学", "正极材料 负极材料 电解液 隔膜", (0,)),
                _p("C32", "铜业 铝业", "铜箔 铝箔 铝型材", (0, 1, 2)),
                _p("C33", "五金 紧固件", "紧固件 弹簧 精密五金件", (2,)),
                _p("C29", "塑料 新材料", "工程塑料粒子 改性塑料", (1, 3)),
                _p("C39", "电子 元器件", "被动元件 印制电路板", (4,)),
            ),
            (
                _p("C32", "有色金属 锂业", "碳酸锂 电解铜 铝锭", (0, 1)),
                _p("C26", "化工", "基础化工原料 溶剂 六氟磷酸锂", (0, 3)),
                _p("C31", "钢铁 特钢", "冷轧钢板 特钢棒材", (2,)),
                _p("C30", "碳素材料 矿物材料", "石墨 石英砂", (0, 4)),
                _p("C22", "包装 纸业", "包装纸箱 纸托盘"),
            ),
        ),
        dealer=_p("F52", "汽车销售服务 汽车贸易", "新能源汽车零售"),
    ),
    "auto": _ChainPlan(
        "汽车",
        _p("C36", "汽车 汽车工业", "乘用车 商用车 轻型货车"),
        (
            (
                _p("C36", "汽车零部件 汽车部件", "发动机总成 变速箱 车身总成 座椅总成"),
                _p("C36", "汽车配件 汽车系统", "制动系统 转向系统 汽车灯具"),
                _p("C39", "汽车电子", "车载电子 仪表总成"),
                _p("C29", "汽车内饰 橡塑", "内饰件 轮胎 密封条"),
            ),
            (
                _p("C33", "精密部件 金属制品", "冲压件 铸锻件", (0, 1)),
                _p("C38", "线缆 电器", "线束 连接器", (0, 2)),
                _p("C29", "塑胶制品 橡塑", "塑料件 橡胶件", (1, 3)),
                _p("C34", "机械 传动科技", "轴承 齿轮", (0, 1)),
                _p("C39", "电子", "电子元器件 传感器", (2,)),
            ),
            (
                _p("C31", "钢铁 特钢", "汽车板 特钢棒材", (0, 3)),
                _p("C32", "铝业 铜业", "铝合金锭 铜材", (0, 1)),
                _p("C33", "五金 紧固件", "紧固件 弹簧", (0, 3)),
                _p("C26", "化工 新材料", "涂料 工程塑料 合成橡胶", (2,)),
                _p("C39", "元器件", "被动元件 印制电路板", (4,)),
            ),
            (
                _p("C31", "钢铁 冶金", "生铁 钢坯", (0, 2)),
                _p("C32", "有色金属", "电解铝 电解铜", (1, 4)),
                _p("C26", "化工", "基础化工原料 炭黑", (3,)),
                _p("C22", "包装", "包装纸箱"),
            ),
        ),
        dealer=_p("F52", "汽车销售服务 汽车贸易", "汽车零售"),
    ),
    "ic": _ChainPlan(
        "集成电路",
        _p("C39", "集成电路 半导体 微电子", "存储芯片 逻辑芯片"),
        (
            (
                _p("C39", "封装测试 半导体", "芯片封装 芯片测试"),
                _p("C35", "半导体设备 装备", "刻蚀设备 薄膜沉积设备 清洗设备"),
                _p("C39", "电子材料 半导体材料", "硅片 掩模版"),
                _p("C26", "电子化学品 新材料", "光刻胶 电子特气 湿电子化学品"),
            ),
            (
                _p("C39", "电子 微电子", "引线框架 封装基板", (0,)),
                _p("C35", "精密机械 自动化", "设备零部件 真空泵 机械手", (1,)),
                _p("C26", "化学 气体", "高纯试剂 工业气体", (2, 3)),
                _p("C33", "精密部件 金属制品", "精密结构件 腔体部件", (1,)),
                _p("C29", "塑胶制品 新材料", "塑封料 晶圆载具", (0, 2)),
            ),
            (
                _p("C32", "有色金属 金属材料", "高纯铜 键合金丝 溅射靶材", (0,)),
                _p("C34", "机电 通用设备", "阀门 泵 轴承", (1, 3)),
                _p("C26", "化工", "基础化学品 特种树脂", (2, 4)),
                _p("C30", "石英制品 陶瓷", "石英器件 精密陶瓷", (1,)),
            ),
            (
                _p("C26", "化工 化学", "氢氟酸 硫酸 溶剂", (2,)),
                _p("C32", "冶金 金属", "铜材 铝材", (0, 1)),
                _p("C22", "包装", "防静电包装 包装纸箱"),
                _p("C30", "矿物材料", "石英砂 氧化铝粉", (3,)),
            ),
        ),
    ),
    "pv": _ChainPlan(
        "光伏",
        _p("C38", "光伏科技 新能源 太阳能", "光伏组件"),
        (
            (
                _p("C38", "光伏 太阳能", "光伏电池片 逆变器"),
                _p("C30", "玻璃 光伏玻璃", "光伏玻璃"),
                _p("C29", "新材料 胶膜", "EVA胶膜 背板"),
                _p("C33", "金属制品 铝制品", "组件边框 光伏支架"),
            ),
            (
                _p("C39", "电子材料 硅材料", "单晶硅片 硅棒", (0,)),
                _p("C38", "电器 电气", "接线盒 光伏焊带", (0,)),
                _p("C26", "化工 新材料", "光伏银浆 树脂", (0, 2)),
                _p("C32", "铝业 铜业", "铝型材 铜带", (0, 3)),
            ),
            (
                _p("C26", "硅业 化工", "多晶硅 工业硅", (0,)),
                _p("C30", "石英 矿物材料", "石英坩埚 石英砂", (0,)),
                _p("C32", "有色金属", "银粉 铝棒", (2, 3)),
                _p("C29", "塑料", "聚烯烃粒子", (2,)),
            ),
            (
                _p("C26", "化工", "三氯氢硅 基础化工原料", (0,)),
                _p("C32", "冶金", "金属硅 电解铝", (0, 2)),
                _p("C22", "包装 纸业", "包装纸箱 纸护角"),
                _p("B10", "矿业", "石英矿 石灰石", (1,)),
            ),
        ),
    ),
    "electronics": _ChainPlan(
        "消费电子",
        _p("C39", "通讯科技 电子科技 智能终端", "智能手机 平板电脑 可穿戴设备"),
        (
            (
                _p("C39", "显示科技 光电", "显示模组 触控模组"),
                _p("C39", "光学 影像科技", "摄像头模组 光学镜头"),
                _p("C39", "电子 智能制造", "主板PCBA 电源适配器"),
                _p("C38", "电池 新能源", "锂电池电芯 电池模组"),
                _p("C33", "精密部件 五金", "金属中框 精密结构件"),
            ),
            (
                _p("C39", "电路 电子", "印制电路板 柔性线路板", (0, 1, 2)),
                _p("C39", "元器件 微电子", "被动元件 射频模块 芯片", (1, 2)),
                _p("C29", "塑胶制品 塑胶", "塑胶外壳 注塑件", (2, 4)),
                _p("C30", "玻璃 光学材料", "玻璃盖板 光学玻璃", (0, 1)),
                _p("C33", "五金 模具", "精密模具 冲压件", (3, 4)),
            ),
            (
                _p("C26", "电子化学品 化学", "电子胶粘剂 油墨", (0, 1)),
                _p("C32", "铜业 金属材料", "电解铜箔 铜合金带", (0, 4)),
                _p("C29", "新材料 塑料", "工程塑料粒子 保护膜", (2,)),
                _p("C30", "矿物材料", "玻璃原片 石英砂", (3,)),
                _p("C39", "电子", "电子元件 连接器", (1,)),
            ),
            (
                _p("C26", "化工", "基础化工原料 溶剂", (0, 2)),
                _p("C32", "有色金属", "电解铜 铝锭", (1,)),
                _p("C22", "包装 纸品", "包装彩盒 瓦楞纸箱"),
                _p("B10", "矿业", "石英矿 长石", (3,)),
            ),
        ),
        dealer=_p("F51", "通讯器材 数码科技 电子商贸", "数码产品批发"),
    ),
    "appliance": _ChainPlan(
        "家用电器",
        _p("C38", "电器 家电 电器科技", "空调 冰箱 洗衣机 小家电"),
        (
            (
                _p("C34", "压缩机 机电", "压缩机 风机"),
                _p("C38", "电机 电器", "电机 变频控制器"),
                _p("C39", "电子 智能控制", "控制板 显示面板"),
                _p("C29", "塑胶 塑料制品", "注塑外壳 塑料内胆"),
                _p("C33", "金属制品 钣金", "钣金件 换热器"),
            ),
            (
                _p("C33", "五金 精密部件", "冲压件 紧固件", (0, 1, 4)),
                _p("C38", "线缆 电器", "电源线 线束", (1, 2)),
                _p("C39", "元器件", "电子元器件 传感器", (2,)),
                _p("C29", "橡塑 密封件", "橡胶密封件 发泡材料", (0, 3)),
                _p("C32", "铜业", "铜管 漆包线", (0, 1, 4)),
            ),
            (
                _p("C31", "钢铁 钢材", "冷轧钢板 镀锌板", (0,)),
                _p("C32", "铜业 铝业", "铜杆 铝箔", (1, 4)),
                _p("C26", "化工 新材料", "塑料原料 聚氨酯", (3,)),
                _p("C39", "电子", "印制电路板 电子元件", (2,)),
            ),
            (
                _p("C26", "化工", "基础化工原料", (2,)),
                _p("C32", "有色金属", "电解铜 铝锭", (1,)),
                _p("C22", "纸业 包装", "瓦楞原纸 包装纸箱"),
                _p("C31", "冶金", "热轧卷板 钢坯", (0,)),
            ),
        ),
        dealer=_p("F51", "电器销售 家电商贸 电器", "家电批发"),
    ),
    "pharma": _ChainPlan(
        "医药",
        _p("C27", "制药 药业 生物医药", "化学药品制剂 中成药 生物制品"),
        (
            (
                _p("C27", "药业 医药化工", "原料药 医药中间体"),
                _p("C29", "包装材料 塑胶制品", "药用塑料瓶 药用复合膜"),
                _p("C30", "药用玻璃 玻璃", "药用玻璃瓶 安瓿"),
                _p("C35", "制药设备 机械", "制药设备 包装设备"),
            ),
            (
                _p("C26", "化工 精细化工", "化学试剂 医药中间体原料", (0,)),
                _p("C27", "中药饮片 药业", "中药饮片 植物提取物", (0,)),
                _p("C23", "印务 印刷", "说明书印刷 标签印刷", (1,)),
                _p("C13", "生物科技 淀粉", "药用辅料 淀粉", (0,)),
                _p("C33", "金属制品 精密部件", "不锈钢部件 机加工件", (3,)),
            ),
            (
                _p("C26", "化工", "基础化工原料 溶剂", (0, 3)),
                _p("A01", "农业科技 中药材种植", "中药材", (1,)),
                _p("C22", "纸业 纸品", "白卡纸 不干胶材料", (2,)),
                _p("C31", "钢铁 不锈钢", "不锈钢板", (4,)),
            ),
            (
                _p("C26", "化工", "基础化工原料", (0,)),
                _p("A01", "农业 种植", "中药材种苗 中药材", (1,)),
                _p("C22", "纸业", "纸浆板", (2,)),
                _p("C32", "有色金属", "电解镍", (3,)),
            ),
        ),
        dealer=_p("F51", "医药 医药贸易", "药品批发"),
    ),
    "steel": _ChainPlan(
        "钢铁",
        _p("C31", "钢铁 特钢", "热轧卷板 螺纹钢 冷轧板卷"),
        (
            (
                _p("B08", "矿业 矿产", "铁精粉 铁矿石"),
                _p("C25", "焦化 煤化工", "冶金焦炭"),
                _p("C30", "耐火材料", "耐火材料"),
                _p("C31", "合金", "铁合金 硅锰合金"),
                _p("C35", "冶金设备 机械", "冶金设备 备品备件"),
            ),
            (
                _p("B06", "煤业 矿业", "炼焦煤 原煤", (1,)),
                _p("B10", "矿业", "石灰石 白云石", (2,)),
                _p("C33", "机械配件 金属制品", "轧辊 铸件", (4,)),
                _p("C26", "化工 气体", "工业气体 化学品", (1, 3)),
                _p("B08", "矿业", "铁矿石原矿", (0,)),
            ),
            (
                _p("C34", "机电 通用设备", "电机 泵阀", (0, 2)),
                _p("C33", "五金", "紧固件 钢丝绳", (0, 2, 4)),
                _p("C29", "橡胶制品", "输送带 橡胶件", (0, 1, 4)),
                _p("C38", "电器 电气", "电线电缆 开关柜", (0, 1)),
            ),
            (
                _p("C25", "石化 油品", "润滑油", (0,)),
                _p("C32", "有色金属", "铜材", (0, 3)),
                _p("C22", "包装", "包装材料"),
                _p("C31", "钢材", "钢丝 线材", (1,)),
            ),
        ),
        dealer=_p("F51", "钢铁贸易 物资 金属材料", "钢材批发"),
    ),
}

# (plan, the first core's prefecture) in the order chains are added as the scale grows.
_SLOTS: dict[RegionKey, tuple[tuple[str, str], ...]] = {
    RegionKey.YRD: (
        ("nev", "340100"),  # 合肥
        ("ic", "310100"),  # 上海
        ("pv", "320400"),  # 常州
        ("electronics", "320500"),  # 苏州
        ("nev", "330100"),  # 杭州
        ("pharma", "320500"),  # 苏州
        ("ic", "320200"),  # 无锡
        ("appliance", "330200"),  # 宁波
    ),
    RegionKey.GBA: (
        ("electronics", "440300"),  # 深圳
        ("appliance", "440600"),  # 佛山
        ("nev", "440300"),  # 深圳
        ("appliance", "440400"),  # 珠海
        ("electronics", "441900"),  # 东莞
        ("nev", "440100"),  # 广州
        ("ic", "440300"),  # 深圳
        ("pharma", "440100"),  # 广州
    ),
    RegionKey.JJJ: (
        ("auto", "110100"),  # 北京
        ("pharma", "130100"),  # 石家庄
        ("steel", "130200"),  # 唐山
        ("auto", "120100"),  # 天津
        ("electronics", "110100"),  # 北京
        ("pharma", "120100"),  # 天津
        ("auto", "130600"),  # 保定
        ("ic", "110100"),  # 北京
    ),
}

_LOGISTICS_PARTS = (
    _p("G54", "物流 运输 货运", "道路货运 零担物流 整车运输"),
    _p("G58", "国际货运代理 物流", "货运代理 多式联运"),
)
_WAREHOUSE_PART = _p("G59", "仓储 仓储物流", "仓储服务 装卸搬运")

# Fictitious banks: (code, name). Chosen not to be any real bank's name.
_BANKS = (
    ("CJCB", "长江商业银行"),
    ("YFCB", "云帆商业银行"),
    ("XHCB", "星河商业银行"),
    ("QLCB", "青岚商业银行"),
    ("HYCB", "海岳商业银行"),
    ("ZCCB", "泽川商业银行"),
)


@dataclass(frozen=True, slots=True)
class _Size:
    employees: tuple[int, int]
    revenue_per_head_yuan: tuple[int, int]
    assets_pct_of_revenue: tuple[int, int]


_SIZES = {
    "core": _Size((3_000, 60_000), (800_000, 3_000_000), (70, 160)),
    "tier1": _Size((300, 5_000), (500_000, 2_000_000), (60, 140)),
    "tier2": _Size((100, 1_200), (400_000, 1_500_000), (60, 130)),
    "tier3": _Size((20, 300), (300_000, 1_000_000), (50, 120)),
    "tier4": _Size((5, 80), (200_000, 800_000), (40, 110)),
    "dealer": _Size((20, 300), (1_000_000, 5_000_000), (30, 80)),
    "logistics": _Size((30, 800), (300_000, 1_000_000), (50, 120)),
    "warehouse": _Size((15, 300), (300_000, 800_000), (80, 200)),
    "bank": _Size((2_000, 20_000), (1_000_000, 3_000_000), (2_000, 5_000)),
}

# How far from the core a firm sits: (% same prefecture, % elsewhere in the same province);
# the rest anywhere in the region.
_SPREAD = {
    "core": (50, 25),
    "tier1": (55, 25),
    "tier2": (45, 25),
    "tier3": (35, 25),
    "tier4": (25, 25),
    "dealer": (30, 20),
    "service": (50, 25),
}

# ---------------------------------------------------------------------------------------
# Names, people, phones, addresses

_TRADE_CHARS = (
    "恒达鑫瑞华泰丰盛源宏远嘉诚信德海润新联合精锐科美思博通航凯明辉昌隆兴安康永振天正立东宇晨"
    "卓越腾睿拓启峰汇弘益成展创维欣晟骏尚佳鼎金宝星光蓝和元亿万富利祥荣聚力禾智昊铭灿翔锦晖澜"
    "泓煜峻驰迅捷豪致"
)
# Well-known trade names (字号); never drawn.
_FAMOUS_TRADE_NAMES = frozenset(
    _words(
        "海信 康佳 创维 华润 蓝思 华天 恒瑞 信利 华星 海天 天合 正泰 华强 恒力 盛虹 荣盛 万科 万达 "
        "华夏 兴业 万和 海康 华晨 新华 华新 泰康 华安 华泰 华宝 华鑫 宏源 汇丰 恒生 恒丰 永辉 科达 "
        "信达 合力 思源 万宝 华联 安凯 宇通 德力 天正 光明 金龙 腾讯 东华 华东 长城"
    )
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
_GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红鹏飞斌宇浩凯健俊帆旭宁波林峰"
    "晨曦欣怡婷雪琳晶颖佳思子梓博海志永春梅兰亮成荣新利清立东德昊琪瑶蕾嘉佩君彬"
)
_FAMOUS_PEOPLE = frozenset(_words("李强 王健林 刘强东 雷军 丁磊 张勇 马明哲 王传福 李书福"))
_ROADS = _words(
    "人民 建设 解放 中山 新华 工业 科技 创业 发展 和平 友谊 东方 华夏 世纪 光明 迎宾 文化 振兴 "
    "经济 开发 兴业 高新 滨江 环城 金桥 银河 春晖 梧桐 翠微 长兴 湖滨 学府 锦绣 朝阳 青年 新城"
)
_ROAD_KINDS = ("路", "路", "路", "大道", "街")

# Telephone area codes by prefecture.
_AREA_CODES = {
    "110100": "010",
    "120100": "022",
    "310100": "021",
    "130100": "0311",
    "130200": "0315",
    "130300": "0335",
    "130400": "0310",
    "130500": "0319",
    "130600": "0312",
    "130700": "0313",
    "130800": "0314",
    "130900": "0317",
    "131000": "0316",
    "131100": "0318",
    "320100": "025",
    "320200": "0510",
    "320300": "0516",
    "320400": "0519",
    "320500": "0512",
    "320600": "0513",
    "320700": "0518",
    "320800": "0517",
    "320900": "0515",
    "321000": "0514",
    "321100": "0511",
    "321200": "0523",
    "321300": "0527",
    "330100": "0571",
    "330200": "0574",
    "330300": "0577",
    "330400": "0573",
    "330500": "0572",
    "330600": "0575",
    "330700": "0579",
    "330800": "0570",
    "330900": "0580",
    "331000": "0576",
    "331100": "0578",
    "340100": "0551",
    "340200": "0553",
    "340300": "0552",
    "340400": "0554",
    "340500": "0555",
    "340600": "0561",
    "340700": "0562",
    "340800": "0556",
    "341000": "0559",
    "341100": "0550",
    "341200": "0558",
    "341300": "0557",
    "341500": "0564",
    "341600": "0558",
    "341700": "0566",
    "341800": "0563",
    "440100": "020",
    "440300": "0755",
    "440400": "0756",
    "440600": "0757",
    "440700": "0750",
    "441200": "0758",
    "441300": "0752",
    "441900": "0769",
    "442000": "0760",
}

_SINCE_FIRST = date(2015, 1, 1).toordinal()
_SINCE_LAST = date(2026, 6, 30).toordinal()

# ---------------------------------------------------------------------------------------
# Geography


@dataclass(frozen=True, slots=True)
class _Place:
    """A prefecture with its current county-level divisions (``(code, name)``; a prefecture
    without counties, such as 东莞, is its own single entry with an empty name)."""

    code: str
    province: str  # 江苏省, 上海市
    city: str  # 苏州市; empty for a municipality
    prefix: str  # 苏州, 上海: how firms' names begin
    counties: tuple[tuple[str, str], ...]
    districts: tuple[tuple[str, str], ...]  # the urban districts (区), where head offices sit


@cache
def _places(key: RegionKey) -> tuple[_Place, ...]:
    out: list[_Place] = []
    for scope in _SCOPES[key]:
        prefectures = (
            current_regions(RegionLevel.PREFECTURE, within=scope)
            if scope.endswith("0000")
            else [lookup(scope)]
        )
        for pref in prefectures:
            if not pref.current:
                continue
            counties = tuple(
                (r.code, r.name)
                for r in current_regions(RegionLevel.COUNTY, within=pref.code)
                if r.name != "市辖区"
            )
            counties = counties or ((pref.code, ""),)
            municipality = pref.name == "市辖区"
            out.append(
                _Place(
                    code=pref.code,
                    province=pref.province,
                    city="" if municipality else pref.name,
                    prefix=(pref.province if municipality else pref.name).removesuffix("市"),
                    counties=counties,
                    districts=tuple(c for c in counties if c[1].endswith("区")) or counties,
                )
            )
    return tuple(out)


@cache
def region_key_of(region_code: str) -> RegionKey | None:
    """The synthetic region a GB/T 2260 code lies in, or None."""
    for key, scopes in _SCOPES.items():
        for scope in scopes:
            prefix = scope[:2] if scope.endswith("0000") else scope[:4]
            if region_code.startswith(prefix):
                return key
    return None


# ---------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True, slots=True)
class SyntheticRegion:
    enterprises: tuple[EnterpriseRecord, ...]
    relations: tuple[RelationRecord, ...]
    chains: tuple[ChainRecord, ...]
    banks: tuple[BankRecord, ...]  # each bank is also in ``enterprises``, with Role.BANK
    customers: tuple[tuple[str, str], ...]  # (bank code, enterprise USCC)
    # the plan each chain was drawn from (nev, ic, pv, ...; a kind of the segments table),
    # one per ``chains``, in the same order
    chain_kinds: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        """Counts: totals, enterprises by role and by region key, and for each chain its
        members by side and tier as :func:`~chainfin.domain.registry.compute_tiers` sees
        them."""
        roles = Counter(role for e in self.enterprises for role in e.roles)
        regions = Counter(region_key_of(e.region_code) for e in self.enterprises)
        edges = self._edges_by_region()
        by_chain: dict[str, object] = {}
        for chain in self.chains:
            local = edges.get(region_key_of(chain.region_code), edges[None])
            tiers = compute_tiers(set(chain.core_usccs), local, max_tier=chain.max_tier)
            by_side = Counter((side, tier) for (_, side), tier in tiers.items())
            by_chain[chain.name] = {
                "cores": len(chain.core_usccs),
                "upstream": {t: by_side[(Side.UPSTREAM, t)] for t in range(1, chain.max_tier + 1)},
                "downstream": sum(n for (side, _), n in by_side.items() if side is Side.DOWNSTREAM),
            }
        return {
            "enterprises": len(self.enterprises),
            "relations": len(self.relations),
            "chains": len(self.chains),
            "banks": len(self.banks),
            "customers": len(self.customers),
            "by_role": {role.value: roles[role] for role in Role},
            "by_region": {key.value: regions[key] for key in RegionKey if regions[key]},
            "by_chain": by_chain,
        }

    def _edges_by_region(self) -> dict[RegionKey | None, list[Relation[str]]]:
        """The supply graph split by region, so each chain's walk reads only its own region's
        relations; under None, all of them. When some relation crosses regions, a walk could
        leave its region and come back, so every region gets the whole graph."""
        key_of = {e.uscc: region_key_of(e.region_code) for e in self.enterprises}
        everything: list[Relation[str]] = []
        split: dict[RegionKey | None, list[Relation[str]]] = {}
        crossing = False
        for r in self.relations:
            edge = Relation(r.buyer_uscc, r.seller_uscc)
            key = key_of.get(r.buyer_uscc)
            crossing = crossing or key is None or key != key_of.get(r.seller_uscc)
            split.setdefault(key, []).append(edge)
            everything.append(edge)
        if crossing:
            return {None: everything}
        split[None] = everything
        return split


# ---------------------------------------------------------------------------------------
# Generation


class _Registry:
    """What every region appends to, and the uniqueness of names, USCCs and relations."""

    def __init__(self) -> None:
        self.enterprises: list[EnterpriseRecord] = []
        self.relations: list[RelationRecord] = []
        self.names: set[str] = set()
        self.usccs: set[str] = set()
        self.relation_keys: set[tuple[str, str, str]] = set()


@dataclass(slots=True)
class _ChainDraft:
    plan: _ChainPlan
    record: ChainRecord
    cores: list[str]
    tiers: list[list[tuple[str, int]]]  # tiers[n] = [(uscc, part index)], tiers[0] = cores
    members: list[str]  # everyone in the chain but the cores, for bank customers


_ROLE_SETS = {role: frozenset({role}) for role in Role}


class _RegionGenerator:
    """Draws one region's chains and service firms from the region's own random stream."""

    def __init__(self, key: RegionKey, seed: int, registry: _Registry) -> None:
        self.key = key
        self.rng = random.Random(f"chainfin.demo.synthetic:{seed}:{key.value}")
        self.registry = registry
        self.places = _places(key)
        self.by_code = {p.code: p for p in self.places}
        self.neighbours = {
            p.code: [q for q in self.places if q.code[:2] == p.code[:2] and q is not p]
            for p in self.places
        }
        hubs = {pref for _, pref in _SLOTS[key]}
        # Industrial centres draw three times as many firms as other prefectures.
        self.weighted = [p for p in self.places for _ in range(3 if p.code in hubs else 1)]

    # -- one chain ---------------------------------------------------------------------

    def chain(self, plan_key: str, prefecture: str, scale: Scale) -> _ChainDraft:
        plan = _PLANS[plan_key]
        factor = _TIER_FACTOR[scale]
        home = self.by_code[prefecture]
        cores = [self.firm(Role.CORE, plan.core, "core", home)]
        if self.rng.randrange(4) == 0:  # a second core: a sister plant or a joint venture
            cores.append(self.firm(Role.CORE, plan.core, "core", self.near(home, "core")))
        record = ChainRecord(
            name=f"{self.key.label}{plan.label}产业链 · {cores[0].name}",
            core_usccs=tuple(c.uscc for c in cores),
            industry_code=plan.core.division,
            region_code=home.code,
            max_tier=MAX_TIER,
        )
        draft = _ChainDraft(
            plan, record, [c.uscc for c in cores], [[(c.uscc, -1) for c in cores]], []
        )
        for tier, base in enumerate(_TIER_BASE, start=1):
            draft.tiers.append(self.tier(draft, tier, home, self.jitter(base * factor)))
        if plan.dealer is not None:
            self.dealers(draft, plan.dealer, home, self.jitter(_DEALER_BASE * factor))
        return draft

    def tier(
        self, draft: _ChainDraft, tier: int, home: _Place, count: int
    ) -> list[tuple[str, int]]:
        """``count`` suppliers at ``tier`` (at least one of each part), each selling to one or
        two members one tier nearer the core that use what it makes."""
        rng = self.rng
        parts = draft.plan.tiers[tier - 1]
        nearer = draft.tiers[tier - 1]
        by_part: dict[int, list[str]] = {}
        for uscc, index in nearer:
            by_part.setdefault(index, []).append(uscc)
        everyone = [uscc for uscc, _ in nearer]
        buyers_for = [[u for f in p.feeds for u in by_part.get(f, ())] or everyone for p in parts]
        level: list[tuple[str, int]] = []
        for i in range(max(len(parts), count)):
            index = i if i < len(parts) else rng.randrange(len(parts))
            part = parts[index]
            firm = self.firm(Role.SUPPLIER, part, f"tier{tier}", self.near(home, f"tier{tier}"))
            candidates = buyers_for[index]
            for buyer in rng.sample(candidates, min(len(candidates), self.one_or_two())):
                self.relate(buyer, firm.uscc, rng.choice(part.products))
            level.append((firm.uscc, index))
            draft.members.append(firm.uscc)
        return level

    def dealers(self, draft: _ChainDraft, part: _Part, home: _Place, count: int) -> None:
        """Dealers buy the core's products from one core (sometimes both)."""
        rng = self.rng
        for _ in range(count):
            firm = self.firm(Role.DEALER, part, "dealer", self.near(home, "dealer"))
            for core in rng.sample(draft.cores, min(len(draft.cores), self.one_or_two())):
                self.relate(firm.uscc, core, rng.choice(draft.plan.core.products))
            draft.members.append(firm.uscc)

    def share_suppliers(self, drafts: list[_ChainDraft]) -> None:
        """A few suppliers also sell to a member of another chain at the same distance from
        its core (a tier-1 to the other core, a tier-3 to another tier-2, ...), so tiers
        stay exact in both chains."""
        if len(drafts) < 2:
            return
        rng = self.rng
        for i, draft in enumerate(drafts):
            plan_tiers = draft.plan.tiers
            for tier in range(1, MAX_TIER + 1):
                for uscc, part in draft.tiers[tier]:
                    if rng.randrange(100) >= 4:
                        continue
                    other = drafts[(i + 1 + rng.randrange(len(drafts) - 1)) % len(drafts)]
                    buyer, _ = rng.choice(other.tiers[tier - 1])
                    product = rng.choice(plan_tiers[tier - 1][part].products)
                    self.relate(buyer, uscc, product)
                    other.members.append(uscc)

    def services(self, drafts: list[_ChainDraft]) -> list[str]:
        """Logistics and warehouse firms selling to cores and some tier-1 suppliers; every
        core gets at least one of each."""
        rng = self.rng
        cores = [c for d in drafts for c in d.cores]
        homes = {c: d.record.region_code for d in drafts for c in d.cores}
        tier1 = [u for d in drafts for u, _ in d.tiers[1]]
        members = sum(len(d.members) for d in drafts)
        made: list[str] = []
        plan = [(Role.LOGISTICS, max(len(cores), members * 3 // 100))]
        plan.append((Role.WAREHOUSE, max(len(cores), members * 2 // 100)))
        for role, count in plan:
            for i in range(count):
                core = cores[i % len(cores)]
                part = _WAREHOUSE_PART if role is Role.WAREHOUSE else rng.choice(_LOGISTICS_PARTS)
                firm = self.firm(
                    role, part, role.value, self.near(self.by_code[homes[core]], "service")
                )
                buyers = [core]
                if rng.randrange(10) < 4:
                    buyers.append(rng.choice(cores))
                buyers += rng.sample(tier1, min(len(tier1), rng.randrange(4)))
                for buyer in buyers:
                    self.relate(buyer, firm.uscc, rng.choice(part.products))
                made.append(firm.uscc)
        return made

    # -- building blocks ---------------------------------------------------------------

    def jitter(self, n: int) -> int:
        spread = n // 8
        return n + self.rng.randint(-spread, spread)

    def one_or_two(self) -> int:
        return 2 if self.rng.randrange(10) < 3 else 1

    def near(self, home: _Place, kind: str) -> _Place:
        same_prefecture, same_province = _SPREAD[kind]
        roll = self.rng.randrange(100)
        if roll < same_prefecture:
            return home
        if roll < same_prefecture + same_province:
            province = self.neighbours[home.code]
            if province:
                return self.rng.choice(province)
        return self.rng.choice(self.weighted)

    def relate(self, buyer: str, seller: str, product: str) -> None:
        key = (buyer, seller, product)
        if buyer == seller or key in self.registry.relation_keys:
            return
        self.registry.relation_keys.add(key)
        since = date.fromordinal(self.rng.randint(_SINCE_FIRST, _SINCE_LAST))
        self.registry.relations.append(RelationRecord(buyer, seller, product, since))

    def firm(self, role: Role, part: _Part, size: str, place: _Place) -> EnterpriseRecord:
        return _make_enterprise(
            self.rng, self.registry, role, part.division, part.words, _SIZES[size], place
        )


def _make_enterprise(
    rng: random.Random,
    registry: _Registry,
    role: Role,
    division: str,
    words: tuple[str, ...],
    size: _Size,
    place: _Place,
    *,
    name: str | None = None,
) -> EnterpriseRecord:
    head_office = role in (Role.CORE, Role.BANK)
    county_code, county = rng.choice(place.districts if head_office else place.counties)
    if name is None:
        # A firm in a county-level city (昆山市, 迁安市) is usually named after that city.
        local = county.endswith("市") and not head_office
        prefix = county.removesuffix("市") if local else place.prefix
        name = _company_name(rng, registry, prefix, rng.choice(words), _legal_form(rng, role))
    registry.names.add(name)
    employees = min(rng.randint(*size.employees), rng.randint(*size.employees))
    revenue_yuan = employees * rng.randint(*size.revenue_per_head_yuan) + rng.randrange(10_000)
    assets_fen = revenue_yuan * 100 * rng.randint(*size.assets_pct_of_revenue) // 100
    record = EnterpriseRecord(
        uscc=_uscc(rng, registry, county_code),
        name=name,
        region_code=county_code,
        industry_code=division,
        roles=_ROLE_SETS[role],
        employees=employees,
        revenue=Money(revenue_yuan * 100, "CNY"),
        total_assets=Money(assets_fen, "CNY"),
        legal_representative=_person(rng),
        phone=_phone(rng, place),
        address=_address(rng, place, county),
    )
    registry.enterprises.append(record)
    return record


def _legal_form(rng: random.Random, role: Role) -> str:
    if role is Role.CORE:
        return rng.choice(("集团有限公司", "股份有限公司"))
    return "股份有限公司" if rng.randrange(20) == 0 else "有限公司"


def _company_name(
    rng: random.Random, registry: _Registry, prefix: str, word: str, form: str
) -> str:
    attempts = 0
    while True:
        trade = rng.choice(_TRADE_CHARS) + rng.choice(_TRADE_CHARS)
        attempts += 1
        if attempts > 20:  # a crowded city and trade: a three-character trade name
            trade += rng.choice(_TRADE_CHARS)
        if trade[0] == trade[1] or trade[:2] in _FAMOUS_TRADE_NAMES:
            continue
        name = f"{prefix}{trade}{word}{form}"
        if name not in registry.names:
            return name


def _uscc(rng: random.Random, registry: _Registry, region_code: str) -> str:
    while True:
        if rng.randrange(10) < 6:  # a pre-2015 organisation code, all digits
            body = "".join(rng.choices("0123456789", k=8))
        else:  # issued since 2015: the body starts "MA"
            body = "MA" + "".join(rng.choices(CHARSET, k=6))
        try:
            code = make_uscc("9", "1", region_code, body)
        except ValueError:
            continue
        if code not in registry.usccs:
            registry.usccs.add(code)
            return code


def _person(rng: random.Random) -> str:
    while True:
        given = rng.choice(_GIVEN_CHARS)
        if rng.randrange(3):
            given += rng.choice(_GIVEN_CHARS)
        name = rng.choice(_SURNAMES) + given
        if name not in _FAMOUS_PEOPLE:
            return name


def _phone(rng: random.Random, place: _Place) -> str:
    area = _AREA_CODES.get(place.code)
    if area is not None and rng.randrange(3):
        return f"{area}-{rng.randint(2, 8)}{rng.randrange(10_000_000):07d}"
    return f"1{rng.choice('35789')}{rng.randrange(1_000_000_000):09d}"


def _address(rng: random.Random, place: _Place, county: str) -> str:
    road = rng.choice(_ROADS) + rng.choice(_ROAD_KINDS)
    return f"{place.province}{place.city}{county}{road}{rng.randint(1, 999)}号"


def _banks(keys: tuple[RegionKey, ...], seed: int, registry: _Registry) -> tuple[BankRecord, ...]:
    rng = random.Random(f"chainfin.demo.synthetic:{seed}:banks")
    chosen = rng.sample(_BANKS, rng.randint(4, 6))
    banks: list[BankRecord] = []
    for i, (code, short_name) in enumerate(chosen):
        key = keys[i % len(keys)]
        hub = next(p for p in _places(key) if p.code == _BANK_HUBS[key])
        record = _make_enterprise(
            rng,
            registry,
            Role.BANK,
            "J66",
            (),
            _SIZES["bank"],
            hub,
            name=f"{short_name}股份有限公司",
        )
        banks.append(BankRecord(code=code, name=short_name, uscc=record.uscc))
    return tuple(banks)


def _customers(
    seed: int,
    drafts: list[_ChainDraft],
    service_firms: list[str],
    banks: tuple[BankRecord, ...],
) -> tuple[tuple[str, str], ...]:
    """Each chain banks with two or three banks: its cores with all of them, every other
    member with one (sometimes two). Service firms bank with one or two of any."""
    rng = random.Random(f"chainfin.demo.synthetic:{seed}:customers")
    codes = [b.code for b in banks]
    pairs: dict[tuple[str, str], None] = {}
    for draft in drafts:
        chain_banks = rng.sample(codes, rng.randint(2, 3))
        for core in draft.cores:
            for code in chain_banks:
                pairs[(code, core)] = None
        for member in draft.members:
            for code in rng.sample(chain_banks, 2 if rng.randrange(4) == 0 else 1):
                pairs[(code, member)] = None
    for firm in service_firms:
        for code in rng.sample(codes, 2 if rng.randrange(3) == 0 else 1):
            pairs[(code, firm)] = None
    return tuple(pairs)


def generate(regions: Sequence[RegionKey], scale: Scale, seed: int) -> SyntheticRegion:
    """The synthetic region for ``regions`` (order and repeats do not matter) at ``scale``.

    Deterministic in ``(regions, scale, seed)``; see the module docstring for sizes.
    """
    wanted = frozenset(regions)
    keys = tuple(key for key in RegionKey if key in wanted)
    if not keys:
        raise ValueError("give at least one region")
    registry = _Registry()
    drafts: list[_ChainDraft] = []
    kinds: list[str] = []
    service_firms: list[str] = []
    for key in keys:
        generator = _RegionGenerator(key, seed, registry)
        slots = _SLOTS[key][: _CHAINS_PER_REGION[scale]]
        region_drafts = [generator.chain(plan, prefecture, scale) for plan, prefecture in slots]
        kinds += [plan for plan, _ in slots]
        generator.share_suppliers(region_drafts)
        service_firms += generator.services(region_drafts)
        drafts += region_drafts
    banks = _banks(keys, seed, registry)
    return SyntheticRegion(
        enterprises=tuple(registry.enterprises),
        relations=tuple(registry.relations),
        chains=tuple(d.record for d in drafts),
        banks=banks,
        customers=_customers(seed, drafts, service_firms, banks),
        chain_kinds=tuple(kinds),
    )
