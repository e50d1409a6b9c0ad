"""Files a user takes away from Explore: the attractor with a text's path as a standalone interactive HTML file,
the path as CSV, and the path playing as an animated GIF. Pure functions of a bundle's analysis and one
``core.bundle.Trajectory``; the PNG and SVG of the current view are made in the browser (assets/export.js).

The GIF is drawn with matplotlib (Agg) and written with Pillow: both are maintained, pure pip wheels that
need no network, no ffmpeg and no browser, and a GIF plays in every slide deck, chat and web page, where an MP4
needs a codec and a player. Frames and size are capped, so a 2,000-token text makes a small file quickly.
"""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from dashboard import figures
from dashboard.figures_analysis import with_trajectory

__all__ = ["export_figure", "figure_html", "trajectory_csv", "trajectory_gif", "safe_view_state", "csv_columns",
           "MAX_GIF_FRAMES", "GIF_SIZE_PX"]

MAX_GIF_FRAMES = 60          # a longer text advances several tokens per frame
GIF_SIZE_PX = (640, 480)
GIF_FRAME_MS = 250
GIF_HOLD_MS = 2000           # the last frame stays this long before the loop restarts
GIF_CLOUD_POINTS = 4000      # a subsample of the visited-state cloud: the picture is the same, the file smaller
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


def _escape(text: str) -> str:
    """Plotly titles understand a little HTML; a user's text shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def safe_view_state(state, three_d: bool) -> dict:
    """The browser's camera (3D) or axis ranges (2D), kept only when every number is finite: the request may
    carry any JSON."""
    if not isinstance(state, dict):
        return {}
    if three_d:
        camera = state.get("camera")
        if not isinstance(camera, dict):
            return {}
        out = {}
        for part in ("eye", "center", "up"):
            vec = camera.get(part)
            if isinstance(vec, dict) and all(_finite(vec.get(a)) for a in "xyz"):
                out[part] = {a: float(vec[a]) for a in "xyz"}
        return {"camera": out} if "eye" in out else {}
    ranges = {}
    for axis in ("xaxis", "yaxis"):
        r = state.get(axis)
        if isinstance(r, list) and len(r) == 2 and all(_finite(v) for v in r) and r[0] != r[1]:
            ranges[axis] = [float(r[0]), float(r[1])]
    return ranges


def _title(run_id: str, traj, class_names: list[str]) -> str:
    text = " ".join(traj.tokens)
    text = text if len(text) <= 90 else text[:87] + "…"
    k = traj.predicted
    return f"{_escape(run_id)}: “{_escape(text)}” → {_escape(class_names[k])} ({traj.probs_txk[-1][k]:.0%})" \
        if traj.tokens else _escape(run_id)


def export_figure(analysis, class_names: list[str], ordered: bool, traj, run_id: str, three_d: bool,
                  view_state: dict | None = None) -> go.Figure:
    """The attractor (cloud, slow and fixed points, readout) with the text's path, in one figure, as the user
    sees it: the same camera (3D) or zoom (2D) when ``view_state`` carries it."""
    base = figures.attractor_figure(analysis, class_names, ordered, three_d, uirevision=run_id)
    xyz = traj.xyz_tx3 if traj.xyz_tx3 is not None else np.zeros((0, 3), np.float32)
    fig = go.Figure(with_trajectory(base, xyz, traj.tokens))
    view = safe_view_state(view_state, three_d)
    fig.update_layout(title=dict(text=_title(run_id, traj, class_names), x=0.01, font=dict(size=16)),
                      margin=dict(l=10, r=10, t=90, b=10), legend=dict(y=1.0, yanchor="bottom"), meta=None)
    if three_d and view:
        fig.update_layout(scene_camera=view["camera"])
    for axis, r in ({} if three_d else view).items():
        fig.update_layout({axis: dict(range=r, autorange=False)})
    return fig


def figure_html(fig: go.Figure) -> str:
    """A standalone page: plotly.js from the installed plotly package inlined, no CDN, no network."""
    return pio.to_html(fig, include_plotlyjs=True, full_html=True, default_width="100%", default_height="100vh",
                       config={"displaylogo": False, "scrollZoom": True, "responsive": True})


def _cell(token: str) -> str:
    return "'" + token if token.startswith(FORMULA_START) else token


def csv_columns(class_names: list[str]) -> list[str]:
    return (["position", "token", "in_vocabulary", "pc1", "pc2", "pc3"] + [f"p_{name}" for name in class_names]
            + ["evidence", "toward"])


def trajectory_csv(traj, class_names: list[str]) -> str:
    """One row per token: its position (1-based), the token, whether the model knows it, the state on PC1-3,
    the class probabilities after it, its evidence (change of the final predicted class's log-odds) and the
    class whose log-odds rose most."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_columns(class_names))
    xyz = traj.xyz_tx3 if traj.xyz_tx3 is not None else np.full((len(traj.tokens), 3), np.nan)
    for i, token in enumerate(traj.tokens):
        writer.writerow([i + 1, _cell(token), int(bool(traj.known[i])),
                         *(f"{v:.6g}" for v in xyz[i]), *(f"{p:.6g}" for p in traj.probs_txk[i]),
                         f"{traj.evidence_t[i]:.6g}", class_names[int(traj.toward_t[i])]])
    return out.getvalue()


def gif_frame_ends(n_tokens: int, max_frames: int = MAX_GIF_FRAMES) -> list[int]:
    """How many tokens each frame shows: every token when there are few, evenly spaced ends otherwise."""
    if n_tokens <= 0:
        return []
    if n_tokens <= max_frames:
        return list(range(1, n_tokens + 1))
    return sorted({int(round(v)) for v in np.linspace(1, n_tokens, max_frames)})


def _camera_angles(view: dict) -> tuple[float, float]:
    eye = view.get("camera", {}).get("eye", {"x": 1.15, "y": 1.15, "z": 0.7})
    azim = math.degrees(math.atan2(eye["y"], eye["x"]))
    elev = math.degrees(math.atan2(eye["z"], math.hypot(eye["x"], eye["y"])))
    return elev, azim


def trajectory_gif(analysis, class_names: list[str], ordered: bool, traj, three_d: bool,
                   view_state: dict | None = None, max_frames: int = MAX_GIF_FRAMES) -> bytes:
    """The text's path growing token by token over the attractor, as a looping GIF of at most ``max_frames``
    frames of ``GIF_SIZE_PX``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    ends = gif_frame_ends(len(traj.tokens), max_frames)
    if not ends or traj.xyz_tx3 is None:
        raise ValueError("There is no trajectory to animate: type some text first.")
    view = safe_view_state(view_state, three_d)
    fig = Figure(figsize=(GIF_SIZE_PX[0] / 100, GIF_SIZE_PX[1] / 100), dpi=100)
    ax = fig.add_subplot(projection="3d" if three_d else None)
    dims = 3 if three_d else 2
    _draw_background(ax, analysis, class_names, ordered, dims, view)
    xyz = np.asarray(traj.xyz_tx3, dtype=np.float64)[:, :dims]
    path, = ax.plot(*([] for _ in range(dims)), color=figures.TRAJECTORY_COLOR, lw=1.5, marker="o", ms=2.5,
                    animated=True)
    head, = ax.plot(*([] for _ in range(dims)), "o", color="#F1C40F", mec="#111", ms=9, animated=True)
    caption = fig.text(0.01, 0.985, "", va="top", fontsize=11, animated=True)
    if three_d:
        ax.view_init(*_camera_angles(view))
    fig.subplots_adjust(left=0.07 if three_d else 0.1, right=0.74 if three_d else 0.98, bottom=0.1, top=0.92)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for end in ends:
        canvas.restore_region(background)
        _set_data(path, xyz[:end], dims)
        _set_data(head, xyz[end - 1:end], dims)
        k = int(np.argmax(traj.probs_txk[end - 1]))
        word = traj.tokens[end - 1]
        caption.set_text(f"{end}/{len(traj.tokens)} “{word[:24]}” → {class_names[k]} {traj.probs_txk[end - 1][k]:.0%}")
        for artist in (path, head, caption):
            fig.draw_artist(artist)
        frames.append(Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB"))
    palette = frames[-1].quantize(colors=255, method=Image.Quantize.FASTOCTREE)  # octree keeps the pale class hues
    gif = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    out = io.BytesIO()
    durations = [GIF_FRAME_MS] * (len(gif) - 1) + [GIF_HOLD_MS]
    # optimize=False: Pillow's frame-difference search took ~4 s for 60 frames; the whole frames stay under ~1 MB
    gif[0].save(out, format="GIF", save_all=True, append_images=gif[1:], duration=durations, loop=0,
                optimize=False, disposal=1)
    return out.getvalue()


def _set_data(line, pts: np.ndarray, dims: int) -> None:
    line.set_data(pts[:, 0], pts[:, 1])
    if dims == 3:
        line.set_3d_properties(pts[:, 2])


def _draw_background(ax, analysis, class_names, ordered, dims, view) -> None:
    """The cloud (a fixed subsample, coloured by the class the readout predicts) and the fixed points."""
    att, fps = analysis.attractor, analysis.fixed_points
    colors = figures.class_colors(class_names, ordered)
    cloud, pred = np.asarray(att.cloud_xyz_bx3, np.float64), np.asarray(att.cloud_pred_b)
    keep = np.random.default_rng(0).permutation(len(cloud))[:GIF_CLOUD_POINTS]
    for k, name in enumerate(class_names):
        pts = cloud[keep][pred[keep] == k]
        ax.scatter(*pts[:, :dims].T, s=4 if dims == 3 else 3, color=colors[k], alpha=0.45 if dims == 3 else 0.3,
                   linewidths=0, label=f"states → {name}")
    fp = np.asarray(att.fp_xyz_px3, np.float64)
    conv = np.asarray(fps.is_converged_p, bool)
    for mask, marker, color, label in ((conv & fps.is_stable_p, "D", "#222", "stable fixed point"),
                                       (conv & ~fps.is_stable_p, "X", "#B03A2E", "unstable fixed point")):
        if mask.any():
            ax.scatter(*fp[mask][:, :dims].T, s=40, marker=marker, color=color, edgecolors="white", label=label)
    titles = figures.axis_titles(analysis.pca.explained_variance_ratio_c_)
    ax.set_xlabel(titles[0], fontsize=9)
    ax.set_ylabel(titles[1], fontsize=9)
    if dims == 3:
        ax.set_zlabel(titles[2], fontsize=9)
    else:
        ax.set_aspect("equal", adjustable="datalim")
        for axis, setter in (("xaxis", ax.set_xlim), ("yaxis", ax.set_ylim)):
            if axis in view:
                setter(*view[axis])
    ax.tick_params(labelsize=8)
    if dims == 3:  # beside the scene: inside it would cover an axis
        ax.figure.legend(loc="center right", fontsize=8, markerscale=2, frameon=False)
    else:
        ax.legend(loc="lower left", fontsize=8, markerscale=2, framealpha=0.7)
