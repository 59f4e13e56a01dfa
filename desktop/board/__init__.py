"""The chess board widget (scene-graph board, SVG pieces, arrows, heat, SAN entry) and the
line viewer the session and the explorer show lessons with."""
