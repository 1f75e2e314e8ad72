"""How long ``validate`` takes on a spec whose matrix expands to 1,000 videos.

Run: ``.venv/bin/python bench/bench_validate.py`` (add ``--videos N`` for another size).
It writes a realistic spec (templated names and steps, a prompt file, default renders merged
with a video's own) into a temporary folder, then prints:

* ``load_spec``: parse, shape check, templating, expansion and limit checks, in-process
  (best and median of several runs);
* ``validate (CLI)``: the whole ``parafraim-build validate`` command in a fresh interpreter,
  start-up and imports included, which is what a user or CI waits for.

The budget is 2 s for the CLI on 1,000 videos; the exit code is 1 when it is exceeded.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from parafraim_build.spec import load_spec

BUDGET_SECONDS = 2.0

SPEC = """\
version: 1
vars:
  brand: Northwind
  season: autumn
defaults:
  template: {{id: 00000000-0000-0000-0000-000000000007}}
  renders:
    hd: {{width: 1280, height: 720, fps: 30}}
    teaser: {{width: 480, height: 270, format: gif, quality: draft, includeAudio: false}}
videos:
  ad-{{{{ lang }}}}-{{{{ market }}}}-{{{{ cut }}}}:
    matrix:
      lang: [{langs}]
      market: [{markets}]
      cut: [{cuts}]
    name: "{{{{ brand }}}} {{{{ season }}}} ad ({{{{ lang }}}}, {{{{ market }}}}, {{{{ cut }}}})"
    description: The {{{{ season }}}} campaign for market {{{{ market }}}}, cut {{{{ cut }}}}.
    steps:
      - Translate every on-screen text to the language with the code "{{{{ lang }}}}".
      - message: >-
          Show prices in the currency of market {{{{ market }}}} and keep the {{{{ brand }}}}
          logo in the top corner.
        selectedElements: [{{selector: ".price"}}, {{selector: "#logo"}}]
      - >-
        {{% if cut == 'short' %}}Cut the video to 15 seconds.{{% else %}}Keep every
        scene.{{% endif %}}
      - file: prompts/outro.md
    renders:
      teaser: {{fps: 24}}
      square: {{width: 720, height: 720}}
"""

OUTRO = (
    'End on the {{ brand }} logo with the line "{{ season | capitalize }} offers in '
    '{{ market }}" and a call to action in {{ lang }}.\n'
)


def write_spec(folder: Path, videos: int) -> Path:
    """A spec in ``folder`` whose one entry expands to ``videos`` videos (a multiple of 100)."""
    langs = [f"l{i}" for i in range(10)]
    markets = [f"m{i}" for i in range(10)]
    cuts = ["short", "long", *(f"c{i}" for i in range(2, videos // 100))][: videos // 100]
    spec = SPEC.format(langs=", ".join(langs), markets=", ".join(markets), cuts=", ".join(cuts))
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    (folder / "prompts" / "outro.md").write_text(OUTRO, encoding="utf-8")
    path = folder / "parafraim.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000, help="a multiple of 100")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_spec(Path(folder), args.videos)
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            spec = load_spec(path)
            timings.append(time.perf_counter() - start)
        assert len(spec.videos) == args.videos, len(spec.videos)
        steps = sum(len(video.steps) for video in spec.videos.values())
        renders = sum(len(video.renders) for video in spec.videos.values())
        print(f"spec: {len(spec.videos)} videos, {steps} steps, {renders} renders")
        print(
            f"load_spec: best {min(timings):.3f} s, median {statistics.median(timings):.3f} s "
            f"over {args.runs} runs"
        )
        command = "from parafraim_build.cli import main; main()"
        cli = [sys.executable, "-c", command, "validate", "-f", str(path)]
        start = time.perf_counter()
        result = subprocess.run(cli, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        verdict = "within" if elapsed < BUDGET_SECONDS else "OVER"
        print(
            f"validate (CLI, fresh interpreter): {elapsed:.3f} s, {verdict} the "
            f"{BUDGET_SECONDS:.0f} s budget"
        )
        return 0 if elapsed < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
