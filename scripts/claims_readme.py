def rows(record):
    out = []
    for k, c in record["claims"].items():
        if c["kind"] in ("examples", "example"):
            out.append(f"{k}: {c}")
            continue
        vals = {f: c[f] for f in ("value", "lo", "hi", "n", "median", "min", "max", "this", "chance", "right_kind") if f in c}
        out.append(k + ": " + ", ".join(f"{f}={v:.4g}" for f, v in vals.items()))
    return "\n".join(out)
