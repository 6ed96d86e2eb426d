#!/usr/bin/env python3
"""Draw every icon of Immich Sync: the app icon, the tray icons per sync state and a preview sheet.

The icons are drawn from a handful of vector shapes defined here, rather than kept as hand-edited
bitmaps, so that all sizes, the five tray states and the light, dark and macOS template variants
stay consistent, and a change to the mark is one edit followed by

    python3 scripts/draw-icons.py

which rewrites everything under icons/. Each bitmap is drawn at 8x its final size and scaled down
with LANCZOS, which gives smooth edges without relying on the drawing library's anti-aliasing.
The output is deterministic: no timestamps, no randomness, fixed file order.

Design. The mark is a photo card (sun and mountain) inside a pair of circular sync arrows. The app
icon shows it in white and colour on a rounded square of the accent blue. Tray icons use a
monochrome mark (near-black for light panels, near-white for dark panels, black for macOS
templates) so they sit with the other icons of a panel; the state is carried by a small coloured
badge in the lower-right corner. A ring around the badge, in the colour of the panel the icon is
made for, keeps the badge apart from the mark and readable on any panel. In tray icons the mark
moves up and left so the badge covers only part of an arrow, never the photo.

Needs Python 3 and Pillow (pip install pillow).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "icons"
TRAY = OUT / "tray"

SS = 8  # supersampling factor

# Colours.
ACCENT = (0x42, 0x50, 0xAF)  # app icon background
ACCENT_LIGHT = (0x8E, 0x9A, 0xE6)  # far mountain on the app icon
SUN = (0xF5, 0xB0, 0x2E)
SKY = (0xE4, 0xE8, 0xFB)
WHITE = (0xFF, 0xFF, 0xFF)
INK_LIGHT_PANEL = (0x1F, 0x1F, 0x1F)  # mark on light panels
INK_DARK_PANEL = (0xF2, 0xF2, 0xF2)  # mark on dark panels
RING_LIGHT_PANEL = WHITE  # ring around a badge on light panels
RING_DARK_PANEL = (0x1F, 0x1F, 0x1F)  # ring around a badge on dark panels
BLACK = (0x00, 0x00, 0x00)  # macOS template icons

STATES = ("idle", "syncing", "paused", "attention", "offline")

# Badge colours per state: (disc, symbol). The attention symbol is dark, as white on amber is faint.
BADGE_COLOURS = {
    "idle": ((0x2E, 0x9E, 0x5B), WHITE),
    "syncing": ((0x3B, 0x6F, 0xE0), WHITE),
    "paused": ((0x6E, 0x74, 0x7C), WHITE),
    "attention": ((0xE8, 0xA3, 0x17), INK_LIGHT_PANEL),
    "offline": ((0x8A, 0x8A, 0x8A), WHITE),
}
OFFLINE_GLYPH_ALPHA = 0.45  # the mark is dimmed while the server is unreachable

# Geometry of the mark, in units of the glyph box (0..1 on both axes, y down).
RING_R = 0.385  # centre line of the sync arrows
RING_W = 0.095  # stroke width of the sync arrows
HEAD_HALF = 0.125  # half width of an arrow head, across the ring
HEAD_LEN = 0.15  # length of an arrow head, along the ring
ARC_A = (192.0, 322.0)  # degrees, clockwise from 3 o'clock: upper arc, head at the end
ARC_B = (12.0, 142.0)  # lower arc, head at the end
CARD_HALF = 0.19  # half size of the photo card
CARD_RADIUS = 0.07
CARD_STROKE = 0.06  # width of the card's border around the picture

# Geometry of a tray badge, in units of the icon.
BADGE_R = 0.19
BADGE_RING = 0.047  # contrasting ring around the disc (1.5 px at 32 px)
BADGE_C = 1.0 - BADGE_R - BADGE_RING
TRAY_BOX = (0.0, 0.0, 0.88)  # the mark sits up and left so the badge hides only arrow, not photo
TRAY_ARC_B = (45.0, ARC_B[1])  # the tail of the lower arrow starts under the badge


# --------------------------------------------------------------------------------------------
# Drawing helpers. A Layer is an 8x greyscale mask addressed in unit coordinates of a box.


class Layer:
    """A supersampled coverage mask; shapes are given in unit coordinates of a box inside it."""

    def __init__(self, px: int, box: tuple[float, float, float] = (0.0, 0.0, 1.0)):
        self.n = px * SS
        self.img = Image.new("L", (self.n, self.n), 0)
        self.draw = ImageDraw.Draw(self.img)
        self.ox, self.oy, self.scale = box  # unit (0,0) maps to (ox, oy) of the icon, 1 to scale

    def p(self, x: float, y: float) -> tuple[float, float]:
        return ((self.ox + x * self.scale) * self.n, (self.oy + y * self.scale) * self.n)

    def d(self, v: float) -> float:
        return v * self.scale * self.n

    def circle(self, cx: float, cy: float, r: float, fill: int = 255) -> None:
        x, y = self.p(cx, cy)
        rr = self.d(r)
        self.draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=fill)

    def rrect(self, x0: float, y0: float, x1: float, y1: float, r: float, fill: int = 255) -> None:
        a, b = self.p(x0, y0)
        c, d = self.p(x1, y1)
        self.draw.rounded_rectangle((a, b, c, d), radius=self.d(r), fill=fill)

    def polygon(self, pts: list[tuple[float, float]], fill: int = 255) -> None:
        self.draw.polygon([self.p(x, y) for x, y in pts], fill=fill)

    def stroke(self, pts: list[tuple[float, float]], w: float, fill: int = 255) -> None:
        """A polyline of width w with round caps and joins."""
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            dx, dy = x1 - x0, y1 - y0
            ln = math.hypot(dx, dy)
            nx, ny = -dy / ln * w / 2, dx / ln * w / 2
            self.polygon(
                [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)],
                fill,
            )
        for x, y in pts:
            self.circle(x, y, w / 2, fill)


def polar(cx: float, cy: float, r: float, deg: float) -> tuple[float, float]:
    a = math.radians(deg)
    return (cx + r * math.cos(a), cy + r * math.sin(a))


def mask_and(a: Image.Image, b: Image.Image) -> Image.Image:
    return ImageChops.multiply(a, b)


def mask_minus(a: Image.Image, b: Image.Image) -> Image.Image:
    return ImageChops.subtract(a, b)


def mask_scale(a: Image.Image, factor: float) -> Image.Image:
    return a.point(lambda v: round(v * factor))


def paint(mask: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """An RGBA layer of one colour, with the mask as alpha."""
    img = Image.new("RGBA", mask.size, colour + (0,))
    img.putalpha(mask)
    return img


def stack(size: int, layers: list[Image.Image]) -> Image.Image:
    """Composite RGBA layers bottom to top and scale the result down to its final size."""
    out = Image.new("RGBA", layers[0].size, (0, 0, 0, 0))
    for layer in layers:
        out = Image.alpha_composite(out, layer)
    return out.resize((size, size), Image.Resampling.LANCZOS)


# --------------------------------------------------------------------------------------------
# The mark: a photo card (sun and mountain) inside a pair of circular sync arrows.


def draw_arrow_arc(layer: Layer, a0: float, a1: float) -> None:
    """One sync arrow: a band along the ring from a0 to a1 (clockwise), round tail, head at a1."""
    steps = max(8, int(abs(a1 - a0) / 2))
    outer = [
        polar(0.5, 0.5, RING_R + RING_W / 2, a0 + (a1 - a0) * i / steps) for i in range(steps + 1)
    ]
    inner = [
        polar(0.5, 0.5, RING_R - RING_W / 2, a1 - (a1 - a0) * i / steps) for i in range(steps + 1)
    ]
    layer.polygon(outer + inner)
    layer.circle(*polar(0.5, 0.5, RING_R, a0), RING_W / 2)
    tip_deg = a1 + math.degrees(HEAD_LEN / RING_R)
    layer.polygon(
        [
            polar(0.5, 0.5, RING_R + HEAD_HALF, a1),
            polar(0.5, 0.5, RING_R, tip_deg),
            polar(0.5, 0.5, RING_R - HEAD_HALF, a1),
        ]
    )


def arrows_mask(px: int, box, arc_b: tuple[float, float] = ARC_B) -> Image.Image:
    layer = Layer(px, box)
    draw_arrow_arc(layer, *ARC_A)
    draw_arrow_arc(layer, *arc_b)
    return layer.img


def card_bounds() -> tuple[float, float, float, float]:
    return (0.5 - CARD_HALF, 0.5 - CARD_HALF, 0.5 + CARD_HALF, 0.5 + CARD_HALF)


def card_mask(px: int, box, inset: float = 0.0) -> Image.Image:
    x0, y0, x1, y1 = card_bounds()
    layer = Layer(px, box)
    layer.rrect(x0 + inset, y0 + inset, x1 - inset, y1 - inset, max(0.0, CARD_RADIUS - inset))
    return layer.img


def mountain_mask(px: int, box, far: bool = False) -> Image.Image:
    """The landscape's mountain (or the lighter one behind it), unclipped."""
    x0, y0, x1, y1 = card_bounds()
    w, h = x1 - x0, y1 - y0
    layer = Layer(px, box)
    if far:
        layer.polygon([(x0 + 0.30 * w, y1), (x0 + 0.70 * w, y0 + 0.42 * h), (x1 + 0.2 * w, y1)])
    else:
        layer.polygon([(x0 - 0.1 * w, y1), (x0 + 0.36 * w, y0 + 0.36 * h), (x0 + 0.86 * w, y1)])
    return layer.img


def sun_mask(px: int, box) -> Image.Image:
    x0, y0, x1, y1 = card_bounds()
    w = x1 - x0
    layer = Layer(px, box)
    layer.circle(x0 + 0.72 * w, y0 + 0.30 * w, 0.13 * w)
    return layer.img


def mono_mark_mask(px: int, box, arc_b: tuple[float, float] = ARC_B) -> Image.Image:
    """The mark as one coverage mask: the arrows and a solid card with mountain and sun cut out.

    A solid card reads as a picture down to 16 px, where an outlined one turns into a smudge.
    """
    inner = card_mask(px, box, CARD_STROKE)
    scene = mask_and(ImageChops.lighter(mountain_mask(px, box), sun_mask(px, box)), inner)
    card = mask_minus(card_mask(px, box), scene)
    return ImageChops.lighter(arrows_mask(px, box, arc_b), card)


# --------------------------------------------------------------------------------------------
# App icon: the mark in white and colour on a rounded square of the accent colour.


def app_icon(px: int) -> Image.Image:
    """Small sizes fill the square edge to edge; larger ones keep a narrow transparent margin."""
    margin = 0.0 if px <= 24 else 0.04
    bg = Layer(px)
    bg.rrect(margin, margin, 1 - margin, 1 - margin, 0.225 * (1 - 2 * margin))
    pad = margin + 0.06 * (1 - 2 * margin)
    box = (pad, pad, 1 - 2 * pad)
    inner = card_mask(px, box, CARD_STROKE)
    return stack(
        px,
        [
            paint(bg.img, ACCENT),
            paint(arrows_mask(px, box), WHITE),
            paint(card_mask(px, box), WHITE),
            paint(inner, SKY),
            paint(mask_and(sun_mask(px, box), inner), SUN),
            paint(mask_and(mountain_mask(px, box, far=True), inner), ACCENT_LIGHT),
            paint(mask_and(mountain_mask(px, box), inner), ACCENT),
        ],
    )


# --------------------------------------------------------------------------------------------
# Tray badges: a disc in the lower-right quadrant carrying one symbol. Symbols are drawn in units
# of the badge radius around its centre.


class BadgeLayer(Layer):
    """A layer addressed in badge units: (0, 0) is the badge centre, 1 is its radius."""

    def __init__(self, px: int):
        super().__init__(px, (BADGE_C - BADGE_R, BADGE_C - BADGE_R, 2 * BADGE_R))

    def p(self, x: float, y: float) -> tuple[float, float]:
        return super().p(0.5 + x / 2, 0.5 + y / 2)

    def d(self, v: float) -> float:
        return super().d(v / 2)


def symbol_check(b: BadgeLayer) -> None:
    b.stroke([(-0.46, 0.04), (-0.14, 0.36), (0.46, -0.28)], 0.30)


def symbol_up_arrow(b: BadgeLayer) -> None:
    b.stroke([(0.0, 0.52), (0.0, -0.05)], 0.30)
    b.polygon([(-0.54, 0.06), (0.0, -0.62), (0.54, 0.06)])


def symbol_pause(b: BadgeLayer) -> None:
    for x in (-0.22, 0.22):
        b.rrect(x - 0.12, -0.46, x + 0.12, 0.46, 0.06)


def symbol_exclamation(b: BadgeLayer) -> None:
    b.polygon([(-0.15, -0.58), (0.15, -0.58), (0.09, 0.16), (-0.09, 0.16)])
    b.circle(0.0, 0.42, 0.15)


def symbol_slash(b: BadgeLayer) -> None:
    b.stroke([(-0.44, -0.44), (0.44, 0.44)], 0.30)


SYMBOLS = {
    "idle": symbol_check,
    "syncing": symbol_up_arrow,
    "paused": symbol_pause,
    "attention": symbol_exclamation,
    "offline": symbol_slash,
}


def badge_masks(px: int, state: str) -> tuple[Image.Image, Image.Image, Image.Image]:
    """(area cut out of the mark including the ring, the disc, the symbol) as masks."""
    cut = Layer(px)
    cut.circle(BADGE_C, BADGE_C, BADGE_R + BADGE_RING)
    disc = Layer(px)
    disc.circle(BADGE_C, BADGE_C, BADGE_R)
    sym = BadgeLayer(px)
    SYMBOLS[state](sym)
    return cut.img, disc.img, mask_and(sym.img, disc.img)


# --------------------------------------------------------------------------------------------
# Tray icons.


def tray_icon(px: int, state: str, variant: str) -> Image.Image:
    """variant: 'light' (dark glyph, light panels), 'dark' (light glyph) or 'template' (black)."""
    mark = mono_mark_mask(px, TRAY_BOX, TRAY_ARC_B)
    if state == "offline":
        mark = mask_scale(mark, OFFLINE_GLYPH_ALPHA)
    cut, disc, sym = badge_masks(px, state)
    mark = mask_minus(mark, cut)
    if variant == "template":
        return stack(px, [paint(mark, BLACK), paint(mask_minus(disc, sym), BLACK)])
    ink = INK_LIGHT_PANEL if variant == "light" else INK_DARK_PANEL
    ring = RING_LIGHT_PANEL if variant == "light" else RING_DARK_PANEL
    disc_colour, sym_colour = BADGE_COLOURS[state]
    return stack(
        px,
        [paint(mark, ink), paint(cut, ring), paint(disc, disc_colour), paint(sym, sym_colour)],
    )


# --------------------------------------------------------------------------------------------
# Preview sheet for review: every tray icon on light and dark panels, plus the app icon.


def font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans where available (most Linux systems), Pillow's built-in font otherwise."""
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def tinted(img: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """A template icon as macOS shows it: its alpha filled with the menu bar's text colour."""
    return paint(img.getchannel("A"), colour)


def preview(
    tray: dict[tuple[str, str, int], Image.Image], app: dict[int, Image.Image]
) -> Image.Image:
    """Contact sheet: per state, the @2x icon at 64 px and the 1x icon at 32 px on each panel."""
    label_w, head_h, cell_w, cell_h, app_w = 190, 34, 132, 96, 270
    strips = (
        ("light panel", "*-light.png", (0xEE, 0xEE, 0xEE), "light", None),
        ("dark panel", "*-dark.png", (0x24, 0x24, 0x26), "dark", None),
        ("macOS, light menu bar", "*-template.png", (0xE8, 0xE8, 0xE8), "template", None),
        (
            "macOS, dark menu bar",
            "*-template.png",
            (0x2A, 0x2A, 0x2C),
            "template",
            (0xFF, 0xFF, 0xFF),
        ),
    )
    width = label_w + cell_w * len(STATES) + app_w
    height = head_h + cell_h * len(strips) + 10
    sheet = Image.new("RGBA", (width, height), (0xFF, 0xFF, 0xFF, 0xFF))
    d = ImageDraw.Draw(sheet)
    big, small = font(15), font(11)
    for i, state in enumerate(STATES):
        d.text(
            (label_w + i * cell_w + cell_w // 2, head_h // 2),
            state,
            fill=(0, 0, 0),
            font=big,
            anchor="mm",
        )
    for row, (name, files, bg, variant, tint) in enumerate(strips):
        y = head_h + row * cell_h
        fg = (0x55, 0x55, 0x55) if sum(bg) > 384 else (0xBB, 0xBB, 0xBB)
        d.rectangle((label_w, y, label_w + cell_w * len(STATES) - 1, y + cell_h - 1), fill=bg)
        d.text((10, y + cell_h // 2 - 9), name, fill=(0, 0, 0), font=big, anchor="lm")
        d.text((10, y + cell_h // 2 + 11), files, fill=(0x66, 0x66, 0x66), font=small, anchor="lm")
        for i, state in enumerate(STATES):
            x = label_w + i * cell_w
            icon2x, icon1x = tray[(state, variant, 64)], tray[(state, variant, 32)]
            if tint:
                icon2x, icon1x = tinted(icon2x, tint), tinted(icon1x, tint)
            sheet.alpha_composite(icon2x, (x + 14, y + 10))
            sheet.alpha_composite(icon1x, (x + 90, y + 42))
            d.text((x + 46, y + cell_h - 11), "@2x", fill=fg, font=small, anchor="mm")
            d.text((x + 106, y + cell_h - 11), "1x", fill=fg, font=small, anchor="mm")
    ax = label_w + cell_w * len(STATES) + 24
    d.text((ax + 76, head_h // 2), "app icon", fill=(0, 0, 0), font=big, anchor="mm")
    sheet.alpha_composite(app[128], (ax + 12, head_h + 10))
    x = ax + 12
    for px in (64, 48, 32, 24, 16):
        sheet.alpha_composite(app[px], (x, head_h + 150))
        d.text(
            (x + px // 2, head_h + 226), str(px), fill=(0x55, 0x55, 0x55), font=small, anchor="mm"
        )
        x += px + 8
    return sheet


# --------------------------------------------------------------------------------------------


def main() -> None:
    TRAY.mkdir(parents=True, exist_ok=True)

    app = {px: app_icon(px) for px in (16, 24, 32, 48, 64, 128, 256, 512, 1024)}
    app[32].save(OUT / "32x32.png")
    app[128].save(OUT / "128x128.png")
    app[256].save(OUT / "128x128@2x.png")
    app[512].save(OUT / "icon.png")
    ico_sizes = (16, 24, 32, 48, 64, 256)
    app[256].save(
        OUT / "icon.ico",
        sizes=[(s, s) for s in ico_sizes],
        append_images=[app[s] for s in ico_sizes if s != 256],
    )
    app[1024].save(OUT / "icon.icns", append_images=[app[s] for s in (32, 64, 128, 256, 512)])

    tray = {}
    for state in STATES:
        for variant in ("light", "dark", "template"):
            for px, suffix in ((32, ""), (64, "@2x")):
                img = tray_icon(px, state, variant)
                tray[(state, variant, px)] = img
                img.save(TRAY / f"{state}-{variant}{suffix}.png")

    preview(tray, app).save(OUT / "preview.png")


if __name__ == "__main__":
    main()
