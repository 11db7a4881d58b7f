"""Escaping for each place a text from the database lands in on a map page.

Names, addresses and unit names are typed by people the map's reader does not control. Each is
escaped for its context where it is written: ``html_text`` for HTML text and quoted attributes
(title, labels, popups built in Python, layer names, which Leaflet writes with innerHTML);
``script_json`` for data inside a ``<script>`` element; in the browser the layers' own ``esc()``
for popups built in JavaScript, and ``textContent`` for tooltips (layers/controls.py).
"""

from __future__ import annotations

import html
import json

# Inside <script> the HTML parser, not the JSON parser, reads first: "</script" ends the element and
# "<!--" followed by "<script" makes the parser swallow the rest of the page. Escaping every <, >
# and & keeps any such sequence out; U+2028/2029 end a line in old JavaScript parsers; the quote
# keeps the text safe even if it is ever pasted into a single-quoted attribute.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(value: object) -> str:
    """JSON for a ``<script>``: characters that mean something to the HTML parser (or end a line in
    JavaScript) are written as \\u escapes, which JSON and JavaScript read back as the same text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)


def html_text(value: object) -> str:
    """Text for HTML, in an element or a quoted attribute: & < > " ' as character references."""
    return html.escape(str(value), quote=True)


# The browser's side of html_text: the layers build popups in JavaScript from their embedded data and
# put every text through esc() (concatenated into each layer's script template).
ESC_JS = """
            var esc = function (s) {
                return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            };
"""
