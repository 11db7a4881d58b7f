"""The JavaScript and CSS a map needs, from the xstatic packages: served under /static or inlined.

Folium points every map at CDNs. A grid worker's PC often has no internet, so the map uses only
Leaflet 1.9.3 (the version folium expects), Leaflet.markercluster and jQuery (folium's popups use it)
shipped as Python packages. Every other asset folium asks for (bootstrap, awesome-markers,
font-awesome) is dropped: our layers draw with DivIcons and paths and need none of them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_markercluster

STATIC_PREFIX = "/static"

# The folder of each package, served as /static/<package>/.
PACKAGES: dict[str, Path] = {
    "leaflet": Path(xs_leaflet.BASE_DIR),
    "leaflet_markercluster": Path(xs_markercluster.BASE_DIR),
    "jquery": Path(xs_jquery.BASE_DIR),
}


@dataclass(frozen=True)
class Asset:
    package: str
    file: str
    kind: str  # "js" or "css"

    def url(self, prefix: str = STATIC_PREFIX) -> str:
        return f"{prefix}/{self.package}/{self.file}"

    @property
    def path(self) -> Path:
        return PACKAGES[self.package] / self.file


# Folium's resource names (Map.default_js/css, MarkerCluster.default_js/css) -> the local file.
LOCAL: dict[str, Asset] = {
    "leaflet": Asset("leaflet", "leaflet.js", "js"),
    "jquery": Asset("jquery", "jquery.min.js", "js"),
    "leaflet_css": Asset("leaflet", "leaflet.css", "css"),
    "markerclusterjs": Asset("leaflet_markercluster", "leaflet.markercluster.js", "js"),
    "markerclustercss": Asset("leaflet_markercluster", "MarkerCluster.css", "css"),
    "markerclusterdefaultcss": Asset("leaflet_markercluster", "MarkerCluster.Default.css", "css"),
}

# Folium's defaults that our layers do not use; dropping them keeps the page free of CDN links.
DROPPED = frozenset({
    "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css", "awesome_markers_font_css",
    "awesome_markers_css", "awesome_rotate_css",
})

_CSS_URL = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")


@cache
def inline_text(asset: Asset) -> str:
    """The file's text, made safe to sit inside <script>/<style> in an HTML page.

    Relative images in a stylesheet (Leaflet's layer-control icon) become data: URIs, since a
    single HTML file has no folder beside it.
    """
    text = asset.path.read_text("utf-8")
    if asset.kind == "css":
        def data_uri(match: re.Match[str]) -> str:
            image = asset.path.parent / match.group(2)
            encoded = base64.b64encode(image.read_bytes()).decode("ascii")
            return f'url("data:image/png;base64,{encoded}")'

        return _CSS_URL.sub(data_uri, text)
    # "</script" inside a script would end the element early.
    return text.replace("</script", "<\\/script")


def local_links(names: list[str], prefix: str = STATIC_PREFIX) -> list[tuple[str, str]]:
    """(name, local URL) pairs for an element's ``default_js``/``default_css``, set on the instance."""
    return [(name, LOCAL[name].url(prefix)) for name in names]
