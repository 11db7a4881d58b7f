"""Vocabularies of the demo street: surnames, given-name characters, place, road and shop names, region codes.

Plain data, so that the generator (gis/demo/street.py) stays about how the street is built.
"""

from __future__ import annotations

from gis.perimeter.specs import SCHOOL_LEVELS

# Surnames (姓) with weights in per mille: roughly the national frequencies of the Ministry of Public
# Security's 2020 name report (《二〇二〇年全国姓名报告》), tilted toward southern Hunan
# (李, 刘, 陈, 罗, 彭, 谭, 曾, 邓, 唐, 肖, 雷, 曹 are more common in Chenzhou than nationally).
SURNAMES: dict[str, float] = {
    "李": 80, "王": 55, "刘": 60, "陈": 55, "张": 50, "黄": 30, "罗": 28, "周": 22, "彭": 20,
    "谭": 18, "曾": 20, "邓": 18, "唐": 17, "胡": 16, "肖": 15, "雷": 12, "曹": 12, "杨": 25,
    "吴": 16, "赵": 12, "何": 14, "欧阳": 6, "郭": 9, "徐": 9, "朱": 10, "廖": 10, "谢": 11,
    "许": 7, "邝": 4, "段": 5, "侯": 4, "首": 2, "袁": 7, "蒋": 8, "龙": 6, "孙": 8, "马": 6,
    "高": 7, "林": 7, "郑": 6, "梁": 6, "宋": 5, "韩": 5, "冯": 5, "田": 6, "董": 4, "潘": 5,
    "蔡": 5, "余": 6, "杜": 4, "叶": 5, "程": 4, "魏": 4, "苏": 4, "丁": 4, "任": 4, "卢": 4,
    "姚": 4, "沈": 3, "钟": 5, "姜": 3, "陆": 3, "范": 3, "汪": 3, "石": 4, "金": 2, "贺": 5,
    "夏": 4, "付": 4, "方": 3, "邹": 5, "熊": 4, "白": 2, "孟": 2, "秦": 2, "邱": 3, "江": 3,
    "尹": 3, "黎": 4, "陶": 3, "毛": 3, "龚": 3, "邵": 2, "万": 2, "戴": 3, "严": 2, "颜": 3,
}

# Characters of given names (名), by sex, as they appear across ages (建国, 秀英 ... 子涵, 梓萱).
GIVEN_MALE = (
    "伟 强 军 勇 杰 涛 斌 明 华 平 辉 刚 建 国 文 志 兵 波 峰 林 亮 磊 鹏 超 俊 浩 宇 轩 睿 "
    "子 博 豪 晨 阳 凯 鑫 翔 飞 龙 海 东 春 生 松 成 荣 庆 德 福 金 永 新 锋 坤 泽 航 铭 宏 卫"
).split()
GIVEN_FEMALE = (
    "芳 丽 娟 敏 静 秀 英 霞 燕 玲 红 梅 兰 萍 琴 云 莲 洁 丹 婷 慧 颖 雪 倩 佳 欣 怡 涵 萱 "
    "雨 诗 梓 琪 悦 彤 晴 菲 娜 莉 桂 珍 凤 翠 春 香 月 美 淑 巧 艳 华 蓉 露 薇 瑶 璐 思 可"
).split()

# Streets (街道) of Suxian District, 苏仙区; the demo numbers them 001, 002 ... (not the official codes).
STREET_NAMES = ("苏仙岭街道", "南塔街道", "卜里坪街道", "王仙岭街道", "白鹿洞街道", "观山洞街道")

# Stems of community (社区) names, in the style of Chenzhou's urban communities.
COMMUNITY_STEMS = (
    "东塔 南塔 西塔 北塔 苏仙 桥口 香花 郴江 五里牌 荷叶坪 高家坪 观山 望仙 王仙 白鹿 飞天 "
    "燕泉 同心 兴隆 安和 文化 东风 新华 人民 青山 翠江 马家坪 石盖塘 坳上 岭下 下湄桥 "
    "拥军 和平 建设 龙泉 骆仙 东江 南岭 北湖 香雪 金山 银河 福城 长冲 栖凤 塘溪 花园 沙湖 "
    "新村 锦绣 五岭 永丰 冯家 许家 良田 栖霞 卜里 太平 涌泉 长春 红旗 裕后 中兴 荷花 杨梅"
).split()

CHINESE_ORDINALS = "一 二 三 四 五 六 七 八 九 十".split()

# Stems of road names (路名); east-west roads take 路/大道, north-south roads 路/街.
ROAD_STEMS = (
    "苏仙 五岭 郴江 香花 王仙岭 白鹿洞 南塔 东塔 飞天山 高家坪 观山 桥口 兴隆 文化 和平 青年 "
    "民生 福城 东风 安和 卜里坪 燕泉 骆仙 同心 拥军 建设 龙泉 南岭 金山 银河 长冲 栖凤 塘溪 "
    "沙湖 锦绣 永丰 许家洞 良田 栖霞 太平 涌泉 长春 红旗 裕后 中兴 荷花 杨梅 马家坪 坳上 岭下 "
    "湘南 粤港 罗家井 牛头下 邓家塘 万华 梨树山 南湖 新港 北湖 人民 解放 国庆 友谊 健康 光明"
).split()
EW_SUFFIXES = ("路", "大道", "路", "东路")
NS_SUFFIXES = ("路", "街", "北路", "南路")

# The last word of a school's (学校) name, by level (the perimeter's vocabulary: a level added there
# must get its word here, or this import fails).
SCHOOL_SUFFIX = dict(zip(SCHOOL_LEVELS, ("幼儿园", "小学", "中学", "高级中学", "职业技术学校"), strict=True))

# Business categories of the school-perimeter rule and their share of a street's shops.
PLACE_CATEGORIES: dict[str, float] = {
    "restaurant": 0.22, "small_shop": 0.20, "food_shop": 0.14, "other": 0.16, "tobacco": 0.05,
    "mahjong_parlor": 0.06, "lottery": 0.03, "publication_shop": 0.025, "internet_cafe": 0.02,
    "game_hall": 0.01, "entertainment": 0.02, "bar": 0.025,
}
PLACE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "internet_cafe": ("网吧", "网咖", "电竞馆"),
    "game_hall": ("游戏厅", "电玩城"),
    "mahjong_parlor": ("棋牌室", "麻将馆"),
    "entertainment": ("KTV", "歌厅", "娱乐城"),
    "bar": ("酒吧", "清吧"),
    "tobacco": ("烟酒店", "名烟名酒"),
    "lottery": ("福彩投注站", "体彩投注站"),
    "publication_shop": ("书店", "书报亭", "文具书店"),
    "food_shop": ("食品店", "零食铺", "副食店"),
    "small_shop": ("便利店", "小卖部", "超市"),
    "restaurant": ("米粉店", "小炒", "饭店", "鱼粉馆", "烧烤"),
    "other": ("理发店", "洗衣店", "五金店", "药店", "手机店", "服装店"),
}
PLACE_PREFIXES = (
    "老王 老李 阿华 湘南 苏仙 郴州 福临 金源 鑫鑫 好又多 惠民 家家乐 兴旺 顺发 红红 幸福 "
    "明星 星际 宏达 佳佳 东江 五岭 百姓 平安 新世纪 快乐 阳光 恒通 小胡 丽丽 永辉 大众 美美 "
    "华盛 聚友 诚信 吉祥 天天 四季 喜洋洋 飞扬 老地方 栖凤渡 嘉禾 临武 宜章 汝城 鸿运 金桥"
).split()

# The licence each category must hold (证照) and the prefix of its number.
LICENCE_KIND = {
    "internet_cafe": "network_culture_licence", "game_hall": "entertainment_licence",
    "entertainment": "entertainment_licence", "bar": "food_licence", "tobacco": "tobacco_licence",
    "lottery": "lottery_licence", "publication_shop": "publication_licence", "food_shop": "food_licence",
    "restaurant": "food_licence", "small_shop": "business_licence", "mahjong_parlor": "business_licence",
    "other": "business_licence",
}
LICENCE_PREFIX = {
    "network_culture_licence": "湘网文", "entertainment_licence": "娱经", "food_licence": "JY1",
    "tobacco_licence": "烟专", "lottery_licence": "彩代", "publication_licence": "新出发",
    "business_licence": "92",
}

# GB/T 2260 county codes (行政区划代码) for the region part of ID numbers. Registered residents of
# the demo are mostly from Suxian (431003) or the rest of Chenzhou (4310xx); the floating population
# (流动人口) comes from other provinces, mostly the neighbours Guangdong, Jiangxi and Guangxi.
CHENZHOU_COUNTIES: dict[str, float] = {
    "431003": 0.70, "431002": 0.08, "431021": 0.04, "431022": 0.03, "431023": 0.03, "431024": 0.02,
    "431025": 0.02, "431026": 0.02, "431027": 0.01, "431028": 0.02, "431081": 0.03,
}
OTHER_PROVINCE_COUNTIES: dict[str, float] = {
    "440106": 0.08, "440304": 0.07, "440305": 0.06, "441302": 0.05, "440203": 0.06,  # Guangdong
    "360702": 0.10, "360102": 0.05, "360781": 0.04,  # Jiangxi
    "450102": 0.06, "450302": 0.06,  # Guangxi
    "420106": 0.05, "520102": 0.04, "510104": 0.04, "500103": 0.04, "410105": 0.04,
    "350102": 0.03, "330106": 0.03, "340102": 0.03, "530102": 0.03,
}

# Mobile number prefixes of the three carriers (号段).
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
).split()
