"""The chess board widget: scene-graph board, SVG pieces, arrows, heat, SAN entry."""
