"""Honour and red/black lists (红黑榜, 十文明户, 最美家庭, 孝道红黑榜): versions drafted, approved and
published (a published version never changes; a new version supersedes it), black entries with their
evidence, the public page's redacted rows, and the households' participation share per community."""
