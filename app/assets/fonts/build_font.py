"""Build LearnwalkSans-Regular.ttf: Noto Sans plus the scripts district look-fors and notes may use, in one file.

Why one file: Flet 1.0.5 has no font fallback list, and the offline web client cannot fetch Google's fallback
fonts, so every glyph must be in the one theme font. Made from Debian's fonts-noto-core and fonts-noto-cjk:
Noto Sans (Latin incl. Vietnamese, Greek, Cyrillic), Arabic, Hebrew, Devanagari, Khmer, Thai, Ethiopic, and
the 3,755 most used simplified Chinese characters (GB2312 level 1) from Noto Sans CJK SC, converted to
TrueType outlines. Run on a machine with those packages: python app/assets/fonts/build_font.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from fontTools import merge, subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

NOTO = Path("/usr/share/fonts/truetype/noto")
CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SCRIPTS = ["NotoSans-Regular.ttf", "NotoSansArabic-Regular.ttf", "NotoSansHebrew-Regular.ttf",
           "NotoSansDevanagari-Regular.ttf", "NotoSansKhmer-Regular.ttf", "NotoSansThai-Regular.ttf",
           "NotoSansEthiopic-Regular.ttf"]
OUT = Path(__file__).with_name("LearnwalkSans-Regular.ttf")
FAMILY = "Learnwalk Sans"  # a modified font gets its own name (SIL OFL 1.1)


def chinese_text() -> str:
    chars = set()
    for hi in range(0xB0, 0xD8):  # GB2312 level 1, rows 16-55
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    chars |= {chr(c) for c in range(0x3000, 0x3040)} | {chr(c) for c in range(0xFF00, 0xFFF0)}
    return "".join(sorted(chars))


def cjk_as_truetype(path: Path) -> None:
    font = next(f for f in TTCollection(str(CJK)).fonts if f["name"].getDebugName(1).endswith(" SC"))
    opts = subset.Options()
    opts.layout_features, opts.name_IDs, opts.hinting = ["*"], ["*"], False
    opts.drop_tables += ["vmtx", "vhea", "VORG", "BASE"]
    sub = subset.Subsetter(opts)
    sub.populate(text=chinese_text())
    sub.subset(font)
    # CFF (cubic) to glyf (quadratic): the merger needs one outline format
    order, glyphs = font.getGlyphOrder(), font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.5, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    del font["CFF "]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for a in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
              "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, a, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["post"].formatType, font["post"].extraNames, font["post"].mapping = 2.0, [], {}
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(path))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cjk = Path(tmp) / "cjk.ttf"
        cjk_as_truetype(cjk)
        font = merge.Merger(options=merge.Options(drop_tables=["vmtx", "vhea"])).merge(
            [str(NOTO / f) for f in SCRIPTS] + [str(cjk)])
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 6, 16):
            name.removeNames(nameID=rec.nameID)
    for nid, value in ((1, FAMILY), (4, FAMILY + " Regular"), (6, "LearnwalkSans-Regular"), (3, "LearnwalkSans-1")):
        name.setName(value, nid, 3, 1, 0x409)
    font.save(str(OUT))
    print(f"{OUT}: {OUT.stat().st_size / 1e6:.1f} MB, {font['maxp'].numGlyphs} glyphs", file=sys.stderr)


if __name__ == "__main__":
    main()
