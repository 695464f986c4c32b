"""Shared HTML that can neither run code nor fetch, with customer text shown as text.

Share layer (sanitising); personal data is masked by :mod:`cxlib.share.mask`.

:func:`sanitize_html` rebuilds every page from allow-lists:

* customer text is text: in a notebook output that displayed HTML or Markdown
  (``display(HTML(...))``, a pandas ``Styler``, ``display(Markdown(...))``),
  which is where comments reach a page, only table structure stays markup
  (and pandas' own table style sheets); any other element is shown as the
  markup it is (HTML) or reduced to its words (Markdown), so a comment holding
  ``<h1>DECISION: ROLL BACK</h1>`` shows as that text, never as a heading;
* images come only from the notebook's own figures (PNG/JPEG/GIF outputs and
  SVG outputs, cleaned and masked by :func:`svg_to_img`); an image inside HTML
  or Markdown output is shown as markup text, not drawn;

* markup that would run or fetch, found in the content (``<script>``, frames,
  forms, ``on*=`` handlers, ``javascript:`` or other non-web links, images
  from anywhere but a ``data:image`` URI, CSS with ``url()``), is not deleted
  but shown as escaped text, since it is nearly always a customer's comment
  that a table (pandas ``Styler`` does not escape), ``display(HTML(...))`` or
  a Markdown cell passed on raw;
* web links become their text followed by the address in brackets; only
  ``#fragment`` and relative links (the index's links to views) stay links;
  URLs are checked after removing control characters and white space, as a
  browser reads them (``java&#x09;script:`` is ``javascript:``);
* inline SVG is cleaned (no script, ``foreignObject``, animation, handlers or
  outside references) and embedded as a ``data:image/svg+xml`` image, in
  which a browser neither runs scripts nor fetches;
* style sheets lose ``@import`` and every ``url()`` that is not a data image;
* finally the body passes nh3 (Ammonia) with an allow-list of tags,
  attributes, style properties and a URL filter, and the page gets a fresh
  ``<head>`` whose Content-Security-Policy forbids scripts and every fetch
  (a second line, not the first: the tests check the sanitiser without it).
"""

from __future__ import annotations

import base64
import functools
import re
from html import escape
from typing import Any

from cxlib.errors import CxError
from cxlib.share.mask import PersonalValues, mask_soup, mask_text

__all__ = ["CSP", "sanitize_css", "sanitize_html", "svg_to_img"]

# --------------------------------------------------------------------------- URLs and CSS

_URL_JUNK = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpe?g|gif|webp|svg\+xml)(?:;[\w=.+\-]+)*,", re.I)
_RELATIVE = re.compile(r"^(?![/\\])[\w\-.~%/]+(?:\?[\w\-.=&%]*)?(?:#[\w\-.:%]*)?$")


def _url_kind(value: str) -> str:
    """``fragment``, ``relative``, ``data_image``, ``web`` or ``bad``."""
    v = _URL_JUNK.sub("", value)
    if v == "" or v.startswith("#"):  # within the page, whatever the anchor's name
        return "fragment"
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", v)
    if m:
        scheme = m.group(1).lower()
        if scheme in ("http", "https", "mailto"):
            return "web"
        return "data_image" if _DATA_IMAGE.match(v) else "bad"
    return "relative" if _RELATIVE.match(v) and "\\" not in v else "bad"


def _css_unescape(css: str) -> str:
    css = re.sub(r"\\([0-9a-fA-F]{1,6})\s?", lambda m: chr(min(int(m.group(1), 16), 0x10FFFF)
                                                           or 0xFFFD), css)
    return re.sub(r"\\(.)", r"\1", css)


_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_IMAGE_SET = re.compile(r"(?<![\w-])(?:-webkit-)?image-set\s*\([^()]*(?:\([^()]*\)[^()]*)*\)",
                        re.I)
_CSS_BAD = re.compile(r"@import|expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:"
                      r"|(?<![\w-])(?:-webkit-)?image-set\s*\(|@namespace|(?<![\w-])src\s*\(",
                      re.I)


def _css_fetches(css: str) -> bool:
    """Whether CSS could fetch or run anything (checked after CSS unescaping)."""
    plain = re.sub(r"/\*.*?\*/", "", _css_unescape(css), flags=re.S)
    if _CSS_BAD.search(plain):
        return True
    return any(not _DATA_IMAGE.match(_URL_JUNK.sub("", m.group(2)))
               and not m.group(2).strip().lower().startswith("data:font/")
               for m in _CSS_URL.finditer(plain))


@functools.lru_cache(maxsize=64)
def sanitize_css(css: str) -> str:
    """A style sheet without ``@import``, outside ``url()`` or script-ish constructs.

    ``url()`` other than a data image becomes ``none``; ``image-set()`` is
    disabled; a sheet that still could fetch or run anything (hidden behind
    CSS escapes, ``expression()``...) is dropped whole.

    A pure function of its text, so results are cached: every analysts' page
    carries the same JupyterLab style sheets, which took most of a page's
    sanitising (issue 17).
    """
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@(?:import|namespace)\b[^;]*;?", "", css, flags=re.I)
    css = _CSS_URL.sub(lambda m: m.group(0) if _DATA_IMAGE.match(_URL_JUNK.sub("", m.group(2)))
                       else "none", css)
    css = _IMAGE_SET.sub("none", css)
    if _css_fetches(css):
        return ""
    return css.replace("<", "\\3c ")


# --------------------------------------------------------------------------- sanitiser

_ALLOWED_TAGS = {
    "a", "abbr", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite",
    "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
    "hr", "i", "img", "ins", "kbd", "label", "li", "main", "mark", "nav", "ol", "p", "pre",
    "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "tt", "u", "ul", "var", "wbr", "center", "font"}
#: Elements that run, fetch, submit or swallow text: shown as text when found in content.
_SHOWN_AS_TEXT = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "input", "button", "textarea", "select", "option", "link", "meta", "template", "noscript",
    "portal", "video", "audio", "source", "track", "param", "dialog", "marquee", "xmp",
    "plaintext", "noembed", "noframes", "title", "math", "keygen", "isindex", "image", "area",
    "map", "html", "head", "body", "picture", "canvas", "slot", "fencedframe", "search"}
_URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "background", "poster",
              "srcset", "data", "codebase", "cite", "longdesc", "lowsrc", "dynsrc", "ping",
              "manifest", "usemap", "imagesrcset", "archive", "classid", "profile"}
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "style"},
    "a": {"href"}, "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "headers", "valign"},
    "th": {"colspan", "rowspan", "align", "headers", "scope", "valign"},
    "table": {"border", "summary", "align"}, "col": {"span", "align"},
    "colgroup": {"span", "align"}, "ol": {"start", "type"}, "time": {"datetime"},
    "details": {"open"}, "font": {"color"}, "data": {"value"},
}
_STYLE_PROPS = {
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family",
    "text-align", "vertical-align", "text-decoration", "white-space", "border",
    "border-top", "border-bottom", "border-left", "border-right", "border-color",
    "border-width", "border-style", "border-collapse", "border-spacing", "padding",
    "padding-top", "padding-bottom", "padding-left", "padding-right", "margin",
    "margin-top", "margin-bottom", "margin-left", "margin-right", "width", "height",
    "max-width", "min-width", "max-height", "display", "opacity", "line-height",
    "text-transform", "letter-spacing", "word-break", "overflow-x", "overflow",
}
_CONTENT_DROPPED = {"script", "style", "template", "noscript", "iframe", "object", "embed",
                    "textarea", "title", "xmp", "noembed", "noframes", "plaintext", "svg",
                    "math", "select", "frameset", "applet"}
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")


def _nh3_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "href":
        return value if _url_kind(value) in ("fragment", "relative") else None
    if attr == "src":
        return value if _url_kind(value) == "data_image" else None
    if attr == "style":
        return None if _css_fetches(value) else value
    return value


def _unsafe(tag: Any) -> str | None:
    """Why an element in content must be shown as text (None: it may stay)."""
    if tag.name in _SHOWN_AS_TEXT:
        return "element"
    for attr, val in tag.attrs.items():
        sval = " ".join(val) if isinstance(val, list) else str(val)
        a = attr.lower()
        if a.startswith("on") or a in ("formaction", "srcdoc", "xlink:href"):
            return "handler"
        if a == "style" and _css_fetches(sval):
            return "style"
        if a == "src":
            if _url_kind(sval) != "data_image":
                return "src"
        elif a == "href":
            if _url_kind(sval) in ("bad", "data_image"):
                return "href"
        elif a in _URL_ATTRS and sval.strip():
            kind = _url_kind(sval)
            if kind not in ("fragment", "relative"):
                return "url"
    return None


_SHEET_PARENTS = ("jp-OutputArea-output", "jp-RenderedHTMLCommon", "cx-appendix")


def _sheet_place(style: Any) -> bool:
    """Whether a ``<style>`` stands where style sheets belong: the head, the top of
    the body or of a fragment, the top of a notebook output (pandas Styler puts its
    sheet there) or of the methods appendix."""
    parent = style.parent
    if parent is None or parent.name in (None, "[document]", "head", "body", "html"):
        return True
    classes = parent.get("class") or []
    return any(c in classes for c in _SHEET_PARENTS)


def _as_text(tag: Any) -> None:
    from bs4 import NavigableString

    tag.replace_with(NavigableString(str(tag)))


def _unwrap_web_link(tag: Any) -> list[Any]:
    """Replace a web link by its text and address; returns its child elements."""
    href = _URL_JUNK.sub("", str(tag.get("href", "")))
    children = [c for c in tag.children if getattr(c, "name", None)]
    text = tag.get_text()
    if href.lower().startswith("mailto:"):
        href = href[7:]
    tag.attrs.pop("href", None)
    if href and href not in text:
        tag.append(f" ({href})")
    tag.unwrap()
    return children


_SVG_DROP = {"script", "foreignobject", "animate", "animatemotion", "animatetransform", "set",
             "iframe", "handler", "listener", "discard", "a"}
_SVG_CASE = {n.lower(): n for n in (
    "viewBox", "preserveAspectRatio", "clipPath", "clipPathUnits", "linearGradient",
    "radialGradient", "gradientUnits", "gradientTransform", "textPath", "patternUnits",
    "patternTransform", "patternContentUnits", "markerWidth", "markerHeight", "markerUnits",
    "refX", "refY", "stdDeviation", "textLength", "lengthAdjust", "startOffset",
    "maskUnits", "maskContentUnits", "filterUnits", "primitiveUnits", "spreadMethod",
    "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feFlood", "feComposite",
    "feMerge", "feMergeNode", "baseFrequency", "numOctaves", "stitchTiles")}


def svg_to_img(svg: str, values: PersonalValues | None = None, *, mask: bool = False,
               alt: str = "figure") -> str:
    """A cleaned SVG as an ``<img>`` with a data URI (text masked when ``mask``).

    In an image a browser runs no script and fetches nothing; scripts,
    ``foreignObject``, animations, handlers and outside references are removed
    beforehand as well.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(svg, "html.parser")
    root = soup.find("svg")
    if root is None:
        return ""
    for t in root.find_all(lambda x: x.name in _SVG_DROP or x.name == "style"):
        if t.name == "style":
            t.string = sanitize_css(t.get_text())
        elif t.name == "a":  # a link: keep what it shows
            t.unwrap()
        else:
            t.decompose()
    for t in [root, *root.find_all(True)]:
        for attr in list(t.attrs):
            val = str(t.attrs[attr])
            if attr.startswith("on") or (attr in _URL_ATTRS and not val.strip().startswith("#")
                                         and _url_kind(val) != "data_image") \
                    or (attr == "style" and _css_fetches(val)):
                del t.attrs[attr]
        t.name = _SVG_CASE.get(t.name, t.name)
        t.attrs = {_SVG_CASE.get(k, k): v for k, v in t.attrs.items()}
    if mask:
        mask_soup(root, values)
    root.attrs.setdefault("xmlns", "http://www.w3.org/2000/svg")
    if "xmlns:xlink" not in root.attrs and "xlink:" in str(root):
        root["xmlns:xlink"] = "http://www.w3.org/1999/xlink"
    data = base64.b64encode(str(root).encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(alt)}">'


_SVG_DATA = re.compile(r"^data:image/svg\+xml(;[\w=.+\-]+)*,", re.I)


def _svg_data_img(src: str, values: PersonalValues | None, *, mask: bool) -> str:
    """An SVG data URI decoded, cleaned (and masked) by :func:`svg_to_img`; "" if unreadable."""
    from urllib.parse import unquote

    src = _URL_JUNK.sub("", src)
    head, _, data = src.partition(",")
    try:
        text = (base64.b64decode(data, validate=False).decode("utf-8") if ";base64" in head.lower()
                else unquote(data))
    except (ValueError, UnicodeDecodeError):
        return ""
    return svg_to_img(text, values, mask=mask)


#: Notebook outputs whose content is data (HTML or Markdown a notebook displayed).
_DATA_MIMES = {"text/html", "text/markdown", "text/latex"}
_DATA_OUTPUT_CLASSES = {"output_html", "output_markdown", "output_latex"}  # classic template
_TABLE_PARTS = {"thead", "tbody", "tfoot", "tr", "colgroup", "col"}
_CELLS = {"td", "th", "caption"}
#: Selectors of the sheets pandas writes for its own tables (Styler ids, DataFrame class).
_PANDAS_SELECTOR = re.compile(r"^\s*(?:#T_[\w-]+|\.dataframe)(?![\w-])")


def _is_data_output(tag: Any) -> bool:
    classes = tag.get("class") or []
    if "jp-OutputArea-output" in classes and tag.get("data-mime-type") in _DATA_MIMES:
        return True
    return any(c in _DATA_OUTPUT_CLASSES for c in classes)


def _pandas_sheet(css: str) -> str:
    """Only the rules of a sheet that style pandas tables (every selector ``#T_...`` or
    ``.dataframe``); a sheet that came with a comment styles nothing else."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    kept = []
    for rule in re.findall(r"[^{}]*\{[^{}]*\}", css):
        selectors = rule.split("{", 1)[0]
        if selectors.strip() and all(_PANDAS_SELECTOR.match(x)
                                     for x in selectors.split(",")):
            kept.append(rule.strip())
    return "\n".join(kept)


def _data_output_as_text(area: Any) -> None:
    """Customer text as text: in an output that displayed HTML or Markdown only table
    structure (and pandas' wrapper ``<div>`` and table sheets) stays markup."""
    markdown = area.get("data-mime-type") == "text/markdown" or "output_markdown" in (
        area.get("class") or [])

    def demote(tag: Any) -> None:
        if not markdown or _unsafe(tag) or tag.name in ("img", "svg", "image", "picture"):
            _as_text(tag)  # shown as the markup it is: readable, inert
        else:  # rendered Markdown: its words, without the formatting
            for child in list(tag.children):
                if getattr(child, "name", None):
                    demote(child)
            tag.unwrap()

    def walk(tag: Any, where: str) -> None:
        for child in list(tag.children):
            name = getattr(child, "name", None)
            if name is None:
                continue
            if where == "top" and name == "style":  # kept as a sheet (the output's top)
                from bs4.element import Stylesheet

                sheet = _pandas_sheet(child.get_text())
                child.clear()
                child.append(Stylesheet(sheet))  # a sheet's text (get_text reads only these)
                area.insert(0, child.extract())
            elif where == "top" and name == "div" and not child.attrs:
                walk(child, "top")
            elif (where, name) == ("top", "table") or (where == "table"
                                                       and name in _TABLE_PARTS):
                walk(child, "table")
            elif where == "table" and name in _CELLS:
                walk(child, "cell")
            else:
                demote(child)

    walk(area, "top")


def sanitize_html(html: str, *, values: PersonalValues | None = None, mask: bool = False,
                  title: str | None = None, language: str | None = None) -> str:
    """An HTML page (or fragment) that runs nothing and fetches nothing.

    See the module docstring. With ``mask=True`` personal data is masked too
    (tables, text, SVG text, attributes; known ``values`` first), after unsafe
    markup has been turned into text, so a masked value hidden in a payload is
    masked as well. A full page (with ``<html>`` or ``<body>``) comes back as a
    full page with a fresh ``<head>``: ``title`` and ``language`` default to the
    page's own, and only its (sanitised) style sheets are kept.

    Outputs of a notebook that displayed HTML or Markdown (``display(HTML(...))``,
    a Styler table, ``display(Markdown(...))``) carry data, customer comments
    included, so in them only table structure stays markup: any other element is
    shown as its text (HTML) or reduced to its text (Markdown), and images there
    are never shown as images. Images come only from the notebook's figures
    (PNG, JPEG, GIF outputs; SVG outputs cleaned by :func:`svg_to_img`).
    """
    from bs4 import BeautifulSoup

    try:
        import nh3
    except ImportError as exc:  # a dependency of cxlib (pyproject.toml)
        raise CxError("rendering reports needs the HTML sanitiser nh3: pip install 'nh3>=0.3'"
                      ) from exc
    is_page = bool(re.search(r"<(?:!doctype|html|body)\b", html[:2000], re.I))
    soup = BeautifulSoup(html, "html.parser")
    styles = []
    for area in soup.find_all(_is_data_output):
        if area.parent is not None:  # not inside an output already reduced to text
            _data_output_as_text(area)
    for s in soup.find_all("style"):
        if _sheet_place(s):  # a page's or an output's own style sheet: kept, sanitised
            styles.append(s.get_text())
            s.decompose()
        else:  # inside a table cell or text: a pasted comment, shown as text
            _as_text(s)
    page_title = title if title is not None else (
        soup.title.get_text() if soup.title else "")
    html_tag = soup.find("html")
    page_lang = language or (html_tag.get("lang") if html_tag else None) or "en"
    body = soup.body if (is_page and soup.body) else soup
    if is_page and soup.head:
        soup.head.decompose()
    body_attrs = {k: v for k, v in (soup.body.attrs.items() if is_page and soup.body else [])
                  if k == "class" or k.startswith("data-jp-theme")}
    stack = [c for c in body.children if getattr(c, "name", None)]
    while stack:
        tag = stack.pop()
        if tag.name == "svg":
            tag.replace_with(BeautifulSoup(svg_to_img(str(tag), values, mask=mask),
                                           "html.parser"))
            continue
        if tag.name == "img" and _SVG_DATA.match(_URL_JUNK.sub("", str(tag.get("src", "")))):
            # an SVG figure (nbconvert embeds it as a data URI): cleaned and masked inside
            tag.replace_with(BeautifulSoup(_svg_data_img(str(tag["src"]), values, mask=mask),
                                           "html.parser"))
            continue
        if tag.name == "a" and tag.get("href") is not None \
                and _url_kind(str(tag["href"])) == "web":
            stack.extend(_unwrap_web_link(tag))
        elif _unsafe(tag):
            _as_text(tag)
        else:
            stack.extend(c for c in tag.children if getattr(c, "name", None))
    if mask:
        mask_soup(body, values)
    inner = body.decode_contents() if body is not soup else str(soup)
    clean = nh3.clean(
        inner, tags=_ALLOWED_TAGS, clean_content_tags=_CONTENT_DROPPED,
        attributes=_ATTRIBUTES, attribute_filter=_nh3_filter, strip_comments=True,
        link_rel="noopener noreferrer", url_schemes={"data"},
        filter_style_properties=_STYLE_PROPS, generic_attribute_prefixes={"data-"})
    if not is_page:
        return clean
    if mask:  # CSS can show text too (content: "..."): personal values masked there as well
        styles = [mask_text(s, values) for s in styles]
    css = "\n".join(f"<style>\n{sanitize_css(s)}\n</style>" for s in styles if s.strip())
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", str(page_lang)):
        page_lang = "en"
    if mask:
        page_title = mask_text(page_title, values)
    attrs = "".join(f' {k}="{escape(" ".join(v) if isinstance(v, list) else str(v))}"'
                    for k, v in body_attrs.items())
    return ("<!DOCTYPE html>\n"
            f'<html lang="{page_lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f"<title>{escape(page_title)}</title>\n{css}\n</head>\n"
            f"<body{attrs}>\n{clean}\n</body>\n</html>\n")
