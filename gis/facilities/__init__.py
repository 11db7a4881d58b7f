"""Facilities (阵地): 道德讲堂, 志愿服务站, 市民学校, 宣传栏, 曝光台 ... as points with an owner, the
targets per community as data and the check that lists who fails them, and the sessions held there."""
