"""Firm-list uploads as people make them: encodings and XLSX in, limits, every bad row named by
its line, and CSV out that Excel opens safely (UTF-8 BOM, no formula injection)."""

from __future__ import annotations

import codecs
import io
import os
import socket
import subprocess
import sys
import time

import openpyxl
import orjson
import pandas as pd
import pytest

from geoservice import firms, tables
from geoservice.api.firms import XLSX
from geoservice.cli import main
from geoservice.settings import PACKAGE_ROOT
from tests.servers import free_port

ZHIFU = (121.40, 37.54)  # 芝罘区, Yantai
HEADER = "企业名称,经度,纬度\r\n"  # Excel's column names and line ends
ROWS = f"烟台蓝色药谷,{ZHIFU[0]},{ZHIFU[1]}\r\n绿叶制药,{ZHIFU[0]},{ZHIFU[1]}\r\n"


def _xlsx(rows: list[list]) -> bytes:
    """An XLSX workbook whose first sheet holds rows (made with openpyxl, as Excel would save it)."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_text_encodings_are_detected(encoding):
    """UTF-8 with or without BOM, GB18030 and GBK (Excel's default in China), UTF-16 with BOM."""
    frame = firms.read_table((HEADER + ROWS).encode(encoding))
    assert frame["企业名称"].tolist() == ["烟台蓝色药谷", "绿叶制药"]
    assert frame.geometry.x.tolist() == [ZHIFU[0]] * 2


def test_tab_and_semicolon_separated_files_are_read():
    for separator in ("\t", ";"):
        text = (HEADER + ROWS).replace(",", separator)
        assert len(firms.read_table(text.encode("utf-16"))) == 2


def test_unreadable_text_is_refused_with_the_encodings_tried():
    with pytest.raises(firms.FirmDataError, match="neither UTF-8 nor GB18030"):
        firms.read_table(b"name,lon,lat\na\x80b,1,2\n")
    with pytest.raises(firms.FirmDataError, match="legacy .xls"):
        firms.read_table(tables.XLS_MAGIC + b"\x00" * 64)


def test_xlsx_is_read_and_bad_rows_are_named_by_sheet_row():
    raw = _xlsx([["id", "name", "lon", "lat"], [1, "=cmd|' /C calc'!A0", ZHIFU[0], ZHIFU[1]], [],
                 [2, "far", 200.0, 37.0], [3, "no lat", 121.4, None]])
    with pytest.raises(firms.FirmDataError) as info:
        firms.read_table(raw)
    assert [str(p) for p in info.value.problems] == [
        "line 4: field lon: 200.0 is outside −180…180", "line 5: field lat: is empty"]
    good = firms.read_table(_xlsx([["id", "lon", "lat"], [1, ZHIFU[0], ZHIFU[1]], [2, 104.07, 30.66]]))
    assert good["id"].tolist() == ["1", "2"] and good.geometry.y.tolist() == [ZHIFU[1], 30.66]
    with pytest.raises(firms.FirmDataError, match="not a readable XLSX"):
        firms.read_table(tables.XLSX_MAGIC + b"broken")


def test_every_bad_row_is_named_by_its_line():
    """Lines as an editor shows them: header line 1, a quoted line break counts, blank lines too."""
    text = ('id,name,lon,lat\n1,"two\nlines",121.4,37.5\n\n2,extra cell,121.4,37.5,x\n'
            '3,bad,abc,37.5\n4,short,121.4\n')
    with pytest.raises(firms.FirmDataError) as info:
        firms.read_table(text.encode())
    assert [str(p) for p in info.value.problems] == [
        "line 5: field row: has 5 or more cells; the header has 4",
        "line 6: field lon: 'abc' is not a number",
        "line 7: field lat: is empty"]


def test_the_row_limit():
    text = "lon,lat\n" + f"{ZHIFU[0]},{ZHIFU[1]}\n" * 4
    assert len(firms.read_table(text.encode(), max_rows=4)) == 4
    with pytest.raises(firms.FirmDataError, match="more than 3 rows"):
        firms.read_table(text.encode(), max_rows=3)
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(ZHIFU)}, "properties": {}}] * 4}
    with pytest.raises(firms.FirmDataError, match="more than 3 features"):
        firms.read_geojson(orjson.dumps(doc), max_rows=3)


def test_csv_out_is_utf8_with_bom_and_formulas_are_neutralised():
    names = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx", "-12.5", "+86", "烟台", "a=b"]
    text = "name,code,lon,lat\n" + "".join(f'"{n}",{n.strip() or 0},-0.5,37.5\n' for n in names)
    out = firms.to_csv(firms.read_table(text.encode(), max_rows=100))
    assert out.startswith(codecs.BOM_UTF8)
    table = pd.read_csv(io.BytesIO(out), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert table["name"].tolist() == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(A1:A2)", "'\tx", "'\rx",
                                      "-12.5", "+86", "烟台", "a=b"]  # plain numbers stay numbers
    assert (table["lon"] == "-0.5").all()  # coordinates are numbers, written as such


def test_cli_reads_gbk_and_xlsx(tmp_path, capsys):
    gbk = tmp_path / "firms.csv"
    gbk.write_bytes((HEADER + ROWS).encode("gbk"))
    xlsx = tmp_path / "firms.xlsx"
    xlsx.write_bytes(_xlsx([["名称", "lon", "lat"], ["@1+1", *ZHIFU]]))
    for source in (gbk, xlsx):
        out = tmp_path / f"{source.stem}-{source.suffix[1:]}-assigned.csv"
        assert main(["firms", "assign", str(source), "--out", str(out)]) == 0
        assert out.read_bytes().startswith(codecs.BOM_UTF8)
        assert pd.read_csv(out, dtype=str, encoding="utf-8-sig")["district_adcode"].tolist()[0] == "370602"
    assert "'@1+1" in out.read_text(encoding="utf-8-sig")
    assert main(["firms", "assign", str(gbk), "--out", str(tmp_path / "x.csv"), "--max-rows", "1"]) == 1
    assert "more than 1 rows" in capsys.readouterr().err


@pytest.fixture(scope="module")
def limited(catalog):
    """An app with small upload limits (20,000 bytes, 3 rows)."""
    from fastapi.testclient import TestClient

    from geoservice.api.app import create_app
    from geoservice.settings import Settings

    app = create_app(Settings(data_dir=PACKAGE_ROOT / "data", upload_max_bytes=20_000, upload_max_rows=3), catalog)
    with TestClient(app) as client:
        yield client


def test_http_uploads_in_people_formats(limited):
    for body, media in (((HEADER + ROWS).encode("gb18030"), "text/csv"),
                        (_xlsx([["name", "lon", "lat"], ["+2+2", *ZHIFU]]), XLSX)):
        r = limited.post("/firms/assign", content=body, headers={"Content-Type": media})
        assert r.status_code == 200, r.text
        assert r.content.startswith(codecs.BOM_UTF8) and r.headers["content-type"].startswith("text/csv")
        table = pd.read_csv(io.BytesIO(r.content), dtype=str, encoding="utf-8-sig")
        assert table["district_adcode"].tolist()[0] == "370602"
    assert table["name"].tolist() == ["'+2+2"]


def test_http_limits_answer_413_and_400(limited):
    big = ("lon,lat\n" + f"{ZHIFU[0]},{ZHIFU[1]}\n" * 2000).encode()
    declared = limited.post("/firms/assign", content=big, headers={"Content-Type": "text/csv"})
    assert declared.status_code == 413 and declared.json()["code"] == "PayloadTooLarge"
    chunked = limited.post("/firms/assign", content=iter([big[:600], big[600:]]), headers={"Content-Type": "text/csv"})
    assert chunked.status_code == 413 and "20,000 bytes" in chunked.json()["description"]
    rows = limited.post("/firms/assign", content=big[:200], headers={"Content-Type": "text/csv"})
    assert rows.status_code == 400 and "more than 3 rows" in rows.json()["description"]


def test_a_real_server_refuses_a_large_body_before_reading_it():
    """uvicorn, a Content-Length of 1 GB and no body sent: the 413 comes at once, nothing waits for the bytes."""
    port = free_port()
    env = {**os.environ, "GEOSERVICE_UPLOAD_MAX_BYTES": "1000", "PYTHONPATH": str(PACKAGE_ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "geoservice.api.app:app_from_env",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        with sock:
            sock.settimeout(5)
            sock.sendall(b"POST /firms/assign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
                         b"Content-Length: 1000000000\r\n\r\nlon,lat\n")
            started = time.monotonic()
            answer = sock.recv(65536).decode()
        assert answer.startswith("HTTP/1.1 413"), answer
        assert '"code":"PayloadTooLarge"' in answer and time.monotonic() - started < 2
    finally:
        server.terminate()
        server.wait(timeout=10)
