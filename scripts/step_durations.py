#!/usr/bin/env python3
"""Reads a workflow as `tether get NAME -o json` prints it and prints each step's duration
(its pod nodes, in start order) and the workflow's."""
import json
import sys
from datetime import datetime


def seconds(start, end):
    if not start or not end:
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def main():
    wf = json.load(sys.stdin)
    status = wf.get("status", {})
    pods = [n for n in status.get("nodes", {}).values() if n.get("type") == "Pod"]
    pods.sort(key=lambda n: (n.get("startedAt") or "", n.get("finishedAt") or ""))
    for n in pods:
        d = seconds(n.get("startedAt"), n.get("finishedAt"))
        shown = f"{d:7.1f}s" if d is not None else "      -"
        print(f"   {n.get('displayName', n.get('name', '?')):<24} {shown}  {n.get('phase', '')}")
    d = seconds(status.get("startedAt"), status.get("finishedAt"))
    if d is not None:
        print(f"   {'workflow':<24} {d:7.1f}s  {status.get('phase', '')}")


if __name__ == "__main__":
    main()
