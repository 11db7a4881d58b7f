"""Volunteers (学雷锋志愿服务): teams, their members (a resident of the register or an outsider), their
activities and the hours each member served. A person's register flag ``volunteer`` is derived from
active membership by the database (migration 026): one source of truth."""
