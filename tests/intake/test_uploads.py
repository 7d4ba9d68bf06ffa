"""Upload checks: size limit, extension allow-list and content sniffing."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from core.errors import InputError
from intake.uploads import check_upload, safe_name


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"工单编号": ["A1"], "诉求内容": ["路灯不亮"]}).to_excel(buf, index=False)
    return buf.getvalue()


def test_accepts_real_files():
    csv = "工单编号,诉求内容\nA1,路灯不亮\n".encode("gbk")
    assert check_upload("orders.csv", csv, max_mb=1).kind == "csv"
    assert check_upload("orders.xlsx", _xlsx_bytes(), max_mb=1).kind == "xlsx"
    geo = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    checked = check_upload("pts.geojson", geo, max_mb=1)
    assert checked.kind == "geojson" and checked.size == len(geo)


def test_rejects_too_large():
    data = b"a,b\n" + b"1,2\n" * (300 * 1024)
    with pytest.raises(InputError, match=r"more than the limit of 1 MiB.*upload_max_mb"):
        check_upload("big.csv", data, max_mb=1)


def test_rejects_empty():
    with pytest.raises(InputError, match="empty"):
        check_upload("x.csv", b"", max_mb=1)


@pytest.mark.parametrize("name", ["evil.exe", "page.html", "script.py", "noext"])
def test_rejects_other_extensions(name):
    with pytest.raises(InputError, match="is not accepted"):
        check_upload(name, b"MZ\x90\x00", max_mb=1)


def test_rejects_content_that_does_not_match_extension():
    with pytest.raises(InputError, match="not a valid XLSX"):
        check_upload("orders.xlsx", b"a,b\n1,2\n", max_mb=1)
    with pytest.raises(InputError, match="not a valid CSV"):
        check_upload("orders.csv", b"\x7fELF\x02\x01\x01\x00\x00", max_mb=1)
    with pytest.raises(InputError, match="not a valid GEOJSON"):
        check_upload("pts.geojson", b"[1, 2, 3]", max_mb=1)
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(InputError, match="not a valid XLSX"):
        check_upload("orders.xlsx", plain_zip.getvalue(), max_mb=1)


def test_kind_must_be_allowed_by_caller():
    with pytest.raises(InputError, match="upload one of .csv, .txt"):
        check_upload("orders.xlsx", _xlsx_bytes(), allowed=("csv",), max_mb=1)


def test_zipped_shapefile_needs_a_shp():
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("grids/grids.shp", b"\x00\x00\x27\x0a")
    assert check_upload("grids.zip", good.getvalue(), allowed=("zip",), max_mb=1).kind == "zip"


def test_safe_name_strips_directories():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\orders.csv") == "orders.csv"
    assert safe_name('a<b>"c".csv') == "abc.csv"
    assert safe_name("..") == "upload"


def test_undecodable_csv_upload_names_line_and_byte():
    data = "工单编号,诉求内容\nA1,路灯不亮\n".encode("gbk") + b"A2,\xff\n"
    with pytest.raises(InputError, match=r"line 3, byte offset 33: the content is not a valid CSV file: "
                                         r"byte 0xFF is neither UTF-8 nor GBK"):
        check_upload("orders.csv", data, max_mb=1)
