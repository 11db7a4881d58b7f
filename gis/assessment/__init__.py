"""Evidence and the quarterly assessment (创建资料与季度考核): evidence items kept append-only (uploads
and the records' own photos), the quarter's scoring sheet (考核评分细则) imported from XLSX, the items
the system measures filled from live figures, the gap report (查漏补缺) and the frozen submission (报送)
as a deterministic ZIP with a manifest of hashes that `gridmap assess verify` re-checks.

Reads the other capabilities' tables in SQL only (figures.sql, record_photos.sql): it imports none of
their Python."""
