"""Rebuild the vendored fonts in this folder from their upstream packages.

usage: python render/fonts/subset.py SRC_DIR
  SRC_DIR holds `package/` (npm pack @expo-google-fonts/inter@0.4.2, untarred) and `x/`
  (dpkg -x of the Debian packages fonts-noto-core, fonts-noto-cjk, fonts-noto-color-emoji).

Inter and the small Noto script fonts are copied as they are. Noto Sans CJK (one face of the
TTC, ~19 MB per weight) is subset to the characters of GB2312, JIS X 0208 (levels 1 and 2) and
KS X 1001 (all of them, so every Hangul syllable it lists) plus kana, CJK punctuation and
full-width forms. Noto Color Emoji (CBDT bitmaps) is copied whole.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
DEB = "x"  # SRC_DIR's folder of unpacked Debian packages (`dpkg -x "$f" x`, README.md)
NOTO = f"{DEB}/usr/share/fonts/truetype/noto"
COPY = {
    "package/400Regular/Inter_400Regular.ttf": "Inter-Regular.ttf",
    "package/600SemiBold/Inter_600SemiBold.ttf": "Inter-SemiBold.ttf",
    "package/700Bold/Inter_700Bold.ttf": "Inter-Bold.ttf",
    "package/LICENSE_FONT": "LICENSE-Inter-OFL.txt",
    **{
        f"{NOTO}/NotoSans{script}-{weight}.ttf": f"NotoSans{script}-{weight}.ttf"
        for script in ("", "Arabic", "Hebrew", "Devanagari", "Thai")
        for weight in ("Regular", "Bold")
    },
    f"{NOTO}/NotoColorEmoji.ttf": "NotoColorEmoji.ttf",
    f"{DEB}/usr/share/doc/fonts-noto-core/copyright": "LICENSE-Noto-core.txt",
    f"{DEB}/usr/share/doc/fonts-noto-cjk/copyright": "LICENSE-Noto-CJK.txt",
    f"{DEB}/usr/share/doc/fonts-noto-color-emoji/copyright": "LICENSE-Noto-Emoji.txt",
}
CJK_TTC = f"{DEB}/usr/share/fonts/opentype/noto/NotoSansCJK-{{}}.ttc"  # fonts-noto-cjk's TTCs
CJK_FACE = 2  # 0 JP, 1 KR, 2 SC, 3 TC: one face serves all three languages


def _double_byte(codec: str) -> set[int]:
    out: set[int] = set()
    for hi in range(0xA1, 0xFF):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                out.update(map(ord, bytes((hi, lo)).decode(codec)))
    return out


def cjk_codepoints() -> set[int]:
    cps = _double_byte("gb2312") | _double_byte("euc_jp") | _double_byte("euc_kr")
    ranges = [
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0x3040, 0x30FF),  # hiragana, katakana
        (0x31F0, 0x31FF),  # katakana phonetic extensions
        (0x3130, 0x318F),  # Hangul compatibility jamo
        (0xFF00, 0xFFEF),  # half- and full-width forms
    ]
    for lo, hi in ranges:
        cps.update(range(lo, hi + 1))
    return {cp for cp in cps if cp > 0x2E7F}  # Latin & co. come from Inter


def subset_cjk(src: Path, weight: str) -> None:
    font = TTFont(src / CJK_TTC.format(weight), fontNumber=CJK_FACE)
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=cjk_codepoints())
    sub.subset(font)
    font.save(HERE / f"NotoSansCJKsc-{weight}-subset.otf")


def main(src: Path) -> None:
    for rel, name in COPY.items():
        shutil.copyfile(src / rel, HERE / name)
    for weight in ("Regular", "Bold"):
        subset_cjk(src, weight)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
