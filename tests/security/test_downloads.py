"""A download's file name comes from data (a school's ref, a grid's name): whatever it holds, the
Content-Disposition header stays one header, and a mail/HTTP parser (the standard library's, not ours)
reads the original name back from it."""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value

import pytest

from api.params import content_disposition

NAMES = ["学校-周边.csv", 'a"b.xlsx', "x\r\nSet-Cookie: a=b.csv", "../../etc/passwd", "%0d%0a.csv", ""]


@pytest.mark.parametrize("name", NAMES)
def test_any_name_is_one_header_and_reads_back(name):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header and header.isascii()
    message = Message()
    message["Content-Disposition"] = header
    params = message.get_params(header="content-disposition")
    assert params is not None and params[0] == ("attachment", "")
    extended = [v for k, v in params if k == "filename" and isinstance(v, tuple)]  # filename* wins
    assert len(extended) == 1 and collapse_rfc2231_value(extended[0]) == name


def test_the_ascii_fallback_has_no_path_or_quote():
    header = content_disposition('../"x".csv')
    ascii_part = header.split(";")[1]
    assert "/" not in ascii_part and ascii_part.count('"') == 2
