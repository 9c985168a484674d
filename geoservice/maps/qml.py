"""QGIS layer styles (QML) from data/maps/styles.yaml, so a GeoPackage opens in QGIS drawn as the
map pages draw it: a colour and an icon character per element kind, location precision shown by
the symbol (filled: surveyed; hollow with a dashed or dotted ring: approximate, district only),
dashed outlines for zones drawn from their host districts, boundary lines per level."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from geoservice.maps.styles import Styles
from geoservice.vocab import Vocabulary

PX_TO_MM = 0.26  # one CSS pixel at 96 dpi, in millimetres
WHITE = "255,255,255,255"
PEN_STYLES = {
    "solid": "solid",
    "dashed": "dash",
    "dotted": "dot",
}  # styles.yaml border → Qt pen style
GEOMETRY_FAMILIES = ("point", "line", "polygon")  # QGIS symbol types: marker, line, fill
_SYMBOL_TYPE = {"point": "marker", "line": "line", "polygon": "fill"}


def rgba(colour: str, opacity: float = 1.0) -> str:
    """Return '#rrggbb' as QGIS's 'r,g,b,a'."""
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * opacity)}"


def _options(parent: ET.Element, values: dict[str, object]) -> ET.Element:
    """Add a QGIS <Option type="Map"> of string options."""
    node = ET.SubElement(parent, "Option", type="Map")
    for name, value in values.items():
        ET.SubElement(node, "Option", type="QString", name=name, value=str(value))
    return node


def _data_defined(parent: ET.Element, expressions: dict[str, str]) -> None:
    """Add data-defined properties (property name → QGIS expression) to a symbol layer."""
    root = ET.SubElement(ET.SubElement(parent, "data_defined_properties"), "Option", type="Map")
    ET.SubElement(root, "Option", type="QString", name="name", value="")
    properties = ET.SubElement(root, "Option", type="Map", name="properties")
    for name, expression in expressions.items():
        prop = ET.SubElement(properties, "Option", type="Map", name=name)
        ET.SubElement(prop, "Option", type="bool", name="active", value="true")
        ET.SubElement(prop, "Option", type="QString", name="expression", value=expression)
        ET.SubElement(prop, "Option", type="int", name="type", value="3")  # expression-based
    ET.SubElement(root, "Option", type="QString", name="type", value="collection")


def _case(field: str, values: dict[str, str], default: str) -> str:
    """Return a QGIS expression choosing a text by a field's value (QGIS knows only the searched
    form, CASE WHEN condition THEN …)."""
    whens = " ".join(f"WHEN \"{field}\" = '{key}' THEN '{value}'" for key, value in values.items())
    return f"CASE {whens} ELSE '{default}' END" if whens else f"'{default}'"


def _layer(
    symbol: ET.Element, cls: str, options: dict[str, object], defined: dict[str, str] | None = None
) -> None:
    layer = ET.SubElement(
        symbol, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"}
    )
    _options(layer, options)
    if defined:
        _data_defined(layer, defined)


def _symbol(symbols: ET.Element, name: str, family: str) -> ET.Element:
    return ET.SubElement(
        symbols,
        "symbol",
        type=_SYMBOL_TYPE[family],
        name=name,
        alpha="1",
        clip_to_extent="1",
        force_rhr="0",
    )


def _point_symbol(symbol: ET.Element, style: dict, styles: Styles) -> None:
    """A disc in the kind's colour with its icon character; hollow and ringed by precision."""
    colour = rgba(style["colour"])
    precision = {
        k: v for k, v in styles.precision.items() if v.get("symbol") in ("solid", "hollow")
    }
    hollow = {k: WHITE for k, v in precision.items() if v["symbol"] == "hollow"}
    ring = {k: colour for k, v in precision.items() if v["symbol"] == "hollow"}
    sizes = {k: str(round(v.get("size", 24) * PX_TO_MM * 0.8, 2)) for k, v in precision.items()}
    pens = {k: PEN_STYLES.get(v.get("border", "solid"), "solid") for k, v in precision.items()}
    _layer(
        symbol,
        "SimpleMarker",
        {
            "name": "circle",
            "color": colour,
            "outline_color": WHITE,
            "outline_style": "solid",
            "outline_width": "0.5",
            "outline_width_unit": "MM",
            "size": "5",
            "size_unit": "MM",
        },
        {
            "fillColor": _case("location_precision", hollow, colour),
            "outlineColor": _case("location_precision", ring, WHITE),
            "outlineStyle": _case("location_precision", pens, "solid"),
            "size": f"to_real({_case('location_precision', sizes, '5')})",
        },
    )
    _layer(
        symbol,
        "FontMarker",
        {
            "chr": style.get("icon_zh", ""),
            "font": "Noto Sans CJK SC",
            "color": WHITE,
            "size": "3",
            "size_unit": "MM",
            "outline_width": "0",
        },
        {"fillColor": _case("location_precision", ring, WHITE)},
    )


def _line_symbol(symbol: ET.Element, style: dict, styles: Styles) -> None:
    """A line in the kind's colour, dashed when the link is schematic."""
    pens = {
        k: PEN_STYLES.get(v.get("border", "solid"), "solid") for k, v in styles.precision.items()
    }
    _layer(
        symbol,
        "SimpleLine",
        {
            "line_color": rgba(style["colour"]),
            "line_width": round(style.get("weight", 3) * PX_TO_MM, 2),
            "line_width_unit": "MM",
            "line_style": "solid",
            "capstyle": "round",
            "joinstyle": "round",
        },
        {"outlineStyle": _case("location_precision", pens, "solid")},
    )


def _fill_symbol(symbol: ET.Element, style: dict, styles: Styles) -> None:
    """A translucent fill in the kind's colour; dashed outlines for areas of host districts."""
    border = PEN_STYLES.get(styles.host_districts_border, "dash")
    _layer(
        symbol,
        "SimpleFill",
        {
            "color": rgba(style["colour"], style.get("fill_opacity", 0.15)),
            "style": "solid",
            "outline_color": rgba(style["colour"]),
            "outline_width": round(style.get("weight", 2) * PX_TO_MM, 2),
            "outline_width_unit": "MM",
            "outline_style": "solid",
        },
        {"outlineStyle": _case("geometry_basis", {"host_districts": border}, "solid")},
    )


def _document(attribute: str, categories: list[tuple[str, str]], family: str, draw) -> str:
    """Return a QML document of a categorized renderer: (value, label) per category."""
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="categorizedSymbol",
        attr=attribute,
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
    )
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, label) in enumerate(categories):
        ET.SubElement(
            cats, "category", value=value, label=label, symbol=str(i), render="true", type="string"
        )
        draw(_symbol(symbols, str(i), family), value)
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def kinds_qml(styles: Styles, kinds: Vocabulary, present: Iterable[str], family: str) -> str:
    """Return the QML of a plan layer of one geometry family, categorized by element kind."""
    order = [k for k in kinds.terms if k in set(present)]
    order = sorted(order, key=lambda k: styles.kind(k).get("order", 99))
    labels = [(k, f"{kinds.terms[k].name_zh} {kinds.terms[k].name_en}") for k in order]
    draw = {"point": _point_symbol, "line": _line_symbol, "polygon": _fill_symbol}[family]
    return _document(
        "kind", labels, family, lambda symbol, kind: draw(symbol, styles.kind(kind), styles)
    )


def boundaries_qml(styles: Styles, levels: Iterable[str]) -> str:
    """Return the QML of the boundary layer: an outline per level (no fill), as on the pages."""
    chosen = [lvl for lvl in ("province", "city", "district") if lvl in set(levels)]

    def draw(symbol: ET.Element, level: str) -> None:
        style = styles.boundaries[level]
        _layer(
            symbol,
            "SimpleFill",
            {
                "color": "0,0,0,0",
                "style": "no",
                "outline_color": rgba(style["colour"]),
                "outline_width": round(style.get("weight", 1) * PX_TO_MM, 2),
                "outline_width_unit": "MM",
                "outline_style": "dash" if style.get("dash") else "solid",
            },
        )

    labels = [
        (lvl, f"{styles.boundaries[lvl]['label_zh']} {styles.boundaries[lvl]['label_en']}")
        for lvl in chosen
    ]
    return _document("level", labels, "polygon", draw)
