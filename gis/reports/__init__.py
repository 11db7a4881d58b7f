"""Reports of uncivil behaviour (不文明行为): filing (file.py: the reporter stamped by the database, a
client id per report so a phone's retry stores once, the owner found on arrival by routing.py), the
workflow with its append-only history (workflow.py), reading with the routing evidence, overdue flags
and duplicate suggestions (read.py), deadlines in Chinese working days (deadlines.py) and the Open311
GeoReport v2 view of it all (open311.py).

For the workbench pages: ``read.reports`` (a queue or any filtered list, paged), ``read.report`` (one
report with history, evidence, photos and duplicates), ``read.vocabulary``, ``file.file_report`` and
``workflow.transition``; ``workflow.ACTIONS`` says which step goes from which state and whose it is.
"""
