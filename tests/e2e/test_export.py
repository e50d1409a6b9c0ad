"""Explore's export buttons in headless Chromium: each one downloads a file that parses as its format."""
from __future__ import annotations

import csv
import io
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from tests.conftest import TINY_RUN_ID

pytestmark = pytest.mark.e2e

TEXT = "red green red the red"


def _download(page, button: str):
    with page.expect_download(timeout=60_000) as info:
        # a plain DOM click: drawing the picture (software WebGL here) keeps the page busy past click()'s wait
        page.evaluate("id => document.getElementById(id).click()", button)
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


@pytest.mark.parametrize("view", ["2d", "3d"])
def test_every_export_button_downloads_a_valid_file(page, view):
    query = urllib.parse.urlencode({"model": TINY_RUN_ID, "text": TEXT, "view": view})
    page.goto(f"{page.base_url}/?{query}")
    page.wait_for_function("() => document.querySelectorAll('#token-strip .tok').length === 5", timeout=60_000)
    page.wait_for_function("() => ['cloud-graph', 'trajectory-graph'].every(id => "
                           "(document.querySelector('#' + id + ' .js-plotly-plot') || {})._fullLayout)", timeout=60_000)

    name, png = _download(page, "export-png")
    assert name == f"{TINY_RUN_ID}_red-green-red-the-red.png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    box = page.locator("#trajectory-graph").bounding_box()
    assert Image.open(io.BytesIO(png)).size == (2 * round(box["width"]), 2 * round(box["height"]))

    name, svg = _download(page, "export-svg")
    root = ET.fromstring(svg)
    assert name.endswith(".svg") and root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"your text" in svg  # the overlay's legend is in the picture, with the cloud's

    name, html = _download(page, "export-html")
    assert name.endswith(".html") and html.lstrip().lower().startswith(b"<!doctype html>")
    assert b"Plotly.newPlot" in html and b'"your text"' in html and b"#5 red" in html

    name, table = _download(page, "export-csv")
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    assert [r["token"] for r in rows] == TEXT.split() and {"pc1", "pc2", "pc3", "evidence"} <= set(rows[0])

    name, gif = _download(page, "export-gif")
    image = Image.open(io.BytesIO(gif))
    assert name.endswith(".gif") and image.format == "GIF" and image.n_frames == 5
    page.wait_for_function("() => document.querySelector('#export-status').textContent.startsWith('Saved')")
