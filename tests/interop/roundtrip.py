"""roundtrip.py: every module type through tools/aerun_torch.py, both ways,
in one Python process (tests/interop_spec.lua writes the checkpoints).

    /usr/bin/python3 tests/interop/roundtrip.py MANIFEST.json

MANIFEST lists {"name", "checkpoint", "state_dict", "output", "classes"}.
For each: the checkpoint becomes a torch model (aerun_torch.load) whose
outputs on the checkpoint's probe are compared with aerun's (to_torch: the
largest absolute difference); then every parameter and buffer of that torch
model is changed (parameters moved by N(0, 0.1²) noise, running means and
variances redrawn), its state_dict saved to "state_dict" and written by
aerun_torch.from_torch into "output", an aerun checkpoint with a probe that
torch computed, for the spec to compare with aerun's outputs.  Prints one
line "RESULT <json>" with {name: {"to_torch": diff, "probe": [names]}}.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aerun_torch  # noqa: E402


def main(manifest):
    with open(manifest) as f:
        cases = json.load(f)
    results = {}
    for i, case in enumerate(cases):
        classes = aerun_torch.parse_classes(case.get("classes", []))
        model = aerun_torch.load(case["checkpoint"], classes)
        diffs = aerun_torch.check(case["checkpoint"], model, classes)
        torch.manual_seed(100 + i)
        with torch.no_grad():
            for name, t in model.state_dict().items():
                if name.endswith("running_var"):
                    t.uniform_(0.5, 2.0)
                elif name.endswith("running_mean"):
                    t.normal_(0.0, 0.5)
                elif t.is_floating_point():
                    t.add_(torch.randn_like(t) * 0.1)
        torch.save(model.state_dict(), case["state_dict"])
        names = aerun_torch.from_torch(case["state_dict"], case["checkpoint"], case["output"], classes)
        results[case["name"]] = {"to_torch": max(diffs.values()), "probe": names}
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
