"""Settings: the network discovery uses, the data folder, the board's look (theme, piece
size, coordinates, animation), move notation (SAN or figurine) and whether a test answer
waits for a confirmation. A preview board shows the look before it is saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chess
from conceptcoach.desktop.board.theme import THEMES, PieceSet
from conceptcoach.desktop.board.view import Arrow
from conceptcoach.desktop.board.widget import BoardWidget, figurine
from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.widgets import Redraw
from conceptcoach.desktop.settings import PIECE_SIZES, Settings
from conceptcoach.desktop.workers import Context, Workers
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# A Queen's Gambit Declined after 8...O-O: White's bishops on c1 (dark) and e2 (light).
PREVIEW_FEN = "r1bq1rk1/pp2bppp/2n1pn2/3p4/2PP4/2N2N2/PP2BPPP/R1BQK2R w KQ - 0 9"


def _load_networks(ctx: Context) -> list[tuple[str, str]]:
    from conceptcoach.store.networks import list_networks

    return [(n.name, f"{n.name} ({n.role})") for n in list_networks(ctx.db)]


class SettingsScreen(QWidget):
    settingsChanged = Signal(object)  # Settings

    def __init__(self, workers: Workers, settings: Settings, pieces: PieceSet, data_dir: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.settings = settings
        self.current_data_dir = data_dir
        self.redraw = Redraw(self, self.refresh)
        workers.changed.connect(self.on_changes)

        self.network = QComboBox(self)
        self.network.setToolTip("The teacher network discovery runs with. Sessions always use the network "
                                "that found each concept: its moves and lines are stored with the concept")
        self.add_network = QPushButton("Add network file…", self)
        self.add_network.setToolTip("Register a network: one of ours (.safetensors with its .json) or a Leela or "
                                    "Maia network (.pb.gz) as a teacher, as the weaker or student network "
                                    "discovery needs, or (Maia) as a model of a human player")
        self.add_network.clicked.connect(self._choose_network)
        self.network_role = QComboBox(self)
        for label, role in (("role from the file", ""), ("teacher", "teacher"), ("weaker (for discovery)", "weaker"),
                            ("student (for discovery)", "student")):
            self.network_role.addItem(label, role)
        self.db_path = ""
        self.data_dir = QLineEdit(settings.data_dir, self)
        self.data_dir.setAccessibleName("Data folder")
        self.data_dir_note = QLabel(self)
        self.data_dir_note.setWordWrap(True)
        self.data_dir_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._choose_dir)
        self.theme = QComboBox(self)
        for name in THEMES:
            self.theme.addItem(name.capitalize(), name)
        self.piece_size = QComboBox(self)
        for name in PIECE_SIZES:
            self.piece_size.addItem(name.capitalize(), name)
        self.notation = QComboBox(self)
        self.notation.addItem("Letters (Nf3)", "san")
        self.notation.addItem(f"Figurines ({figurine('Nf3')})", "figurine")
        self.coordinates = QCheckBox("Show coordinates on the board", self)
        self.animation = QCheckBox("Animate moves", self)
        self.confirm_moves = QCheckBox("Confirm each test answer before it counts", self)
        self.confirm_moves.setToolTip("A move played in a pre-test, post-test or review waits for Confirm (Enter) "
                                      "or Take back (Esc), so a mis-click is not final; confirmed, it is "
                                      "committed at once")
        self.save = QPushButton("Save settings", self)
        self.save.clicked.connect(self._save)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        dir_row = QHBoxLayout()
        dir_row.addWidget(self.data_dir, 1)
        dir_row.addWidget(browse)
        study = QGroupBox("Study", self)
        sf = QFormLayout(study)
        sf.addRow("Network", self.network)
        net_row = QHBoxLayout()
        net_row.addWidget(self.add_network)
        net_row.addWidget(self.network_role)
        net_row.addStretch(1)
        sf.addRow("", net_row)
        dir_box = QVBoxLayout()
        dir_box.addLayout(dir_row)
        dir_box.addWidget(self.data_dir_note)
        sf.addRow("Data folder", dir_box)
        sf.addRow("", self.confirm_moves)
        look = QGroupBox("Board and notation", self)
        lf = QFormLayout(look)
        lf.addRow("Board theme", self.theme)
        lf.addRow("Piece size", self.piece_size)
        lf.addRow("Move notation", self.notation)
        lf.addRow("", self.coordinates)
        lf.addRow("", self.animation)

        # The preview has its own piece set so that trying a size does not change every board.
        self.preview_pieces = PieceSet(pieces.path)
        self.preview = BoardWidget(self.preview_pieces, self, san_entry=False)
        self.preview.set_board(chess.Board(PREVIEW_FEN))
        self.preview.set_interactive(None)
        self.preview.set_arrows([Arrow(chess.C4, chess.D5, "teacher", 0.2)])
        self.preview.setMinimumSize(280, 280)
        self.preview_caption = QLabel(self)
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)

        left = QVBoxLayout()
        left.addWidget(QLabel("<h2>Settings</h2>", self))
        left.addWidget(study)
        left.addWidget(look)
        row = QHBoxLayout()
        row.addWidget(self.save)
        row.addStretch(1)
        left.addLayout(row)
        left.addWidget(self.status)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.preview_caption)
        right.addWidget(self.preview, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

        for combo in (self.theme, self.piece_size, self.notation):
            combo.currentIndexChanged.connect(self._preview)
        self.coordinates.toggled.connect(self._preview)
        self.show_settings(settings)

    def set_data_dir_in_use(self, folder: str) -> None:
        """The folder the open store lives in (shown when the setting is left empty)."""
        self.current_data_dir = folder
        self._show_data_dir()

    def _show_data_dir(self) -> None:
        folder = self.current_data_dir
        self.data_dir.setPlaceholderText(f"{folder} (the default)" if folder else "the default folder")
        self.data_dir_note.setText((f"In use now: {folder}. " if folder else "")
                                   + "A new data folder is used from the next start; the current store stays "
                                   "where it is.")

    def on_changes(self, changes: Changes) -> None:
        if changes.networks:
            self.redraw.needed()

    def show_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._show_data_dir()
        self.confirm_moves.setChecked(settings.confirm_moves)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.board_theme)))
        self.piece_size.setCurrentIndex(max(0, self.piece_size.findData(settings.piece_size)))
        self.notation.setCurrentIndex(max(0, self.notation.findData(settings.notation)))
        self.coordinates.setChecked(settings.coordinates)
        self.animation.setChecked(settings.animation)
        self.data_dir.setText(settings.data_dir)
        self._preview()

    def refresh(self) -> None:
        self.workers.db(_load_networks, name="networks", on_success=self._networks,
                        on_failure=lambda msg: self.status.setText(f"Could not list the networks: {msg}"))

    def _networks(self, networks: list[tuple[str, str]]) -> None:
        if networks and self.status.text().startswith("No network"):
            self.status.clear()
        self.network.clear()
        for name, label in networks:
            self.network.addItem(label, name)
        if not networks:
            self.network.addItem("no network registered", self.settings.network)
            self.status.setText("No network is registered yet. The bundled network is registered at start-up "
                                "(see the status bar); if none appears, reinstall Concept Coach.")
        self.network.setCurrentIndex(max(0, self.network.findData(self.settings.network)))

    def _choose_network(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Network checkpoint", str(Path.home()),
                                              "Networks (*.safetensors *.pb.gz)")
        if path:
            self.register_network(path, self.network_role.currentData() or "")

    def register_network(self, path: str, role: str = "") -> None:
        """Register a checkpoint file in a child process (reading it loads torch)."""
        if not self.db_path:
            self.status.setText("The store is not open yet; try again in a moment.")
            return
        self.add_network.setEnabled(False)
        self.status.setText(f"Checking {Path(path).name}…")

        def done(info: dict[str, Any]) -> None:
            self.status.setText(f"Registered network “{info['name']}” (role {info['role'] or 'none'}).")

        op = self.workers.process("conceptcoach.desktop.network_jobs:register_file",
                                  {"db_path": self.db_path, "path": path, "role": role}, name="register network",
                                  on_success=done, changes=Changes(networks=True),
                                  on_failure=lambda msg: self.status.setText(
                                      f"<span style='color:#b3261e'>{msg.splitlines()[0]}</span>"),
                                  on_finished=lambda: self.add_network.setEnabled(True))
        self.register_op = op

    def _preview(self) -> None:
        self.preview_pieces.scale = PIECE_SIZES.get(self.piece_size.currentData(), 1.0)
        self.preview.view.set_theme(self.theme.currentData() or "wood")
        self.preview.view.set_coordinates(self.coordinates.isChecked())
        move = chess.Board(PREVIEW_FEN).san(chess.Move(chess.C4, chess.D5))
        shown = figurine("Nf3") if self.notation.currentData() == "figurine" else "Nf3"
        self.preview_caption.setText(f"Preview · the arrow is the teacher's move {move} · notation: {shown}")

    def _choose_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text() or self.current_data_dir)
        if folder:
            self.data_dir.setText(folder)

    def current(self) -> Settings:
        values: dict[str, Any] = {
            "board_theme": self.theme.currentData(), "piece_size": self.piece_size.currentData(),
            "notation": self.notation.currentData(), "coordinates": self.coordinates.isChecked(),
            "animation": self.animation.isChecked(), "data_dir": self.data_dir.text().strip(),
            "confirm_moves": self.confirm_moves.isChecked(),
        }
        if self.network.currentData():
            values["network"] = self.network.currentData()
        return self.settings.with_changes(**values)

    def _save(self) -> None:
        new = self.current()
        if new.data_dir and not Path(new.data_dir).expanduser().parent.exists():
            self.status.setText(f"<span style='color:#b3261e'>The data folder {new.data_dir} cannot be created: "
                                "its parent folder does not exist.</span>")
            return
        moved = new.data_dir != self.settings.data_dir
        self.settings = new
        self.settingsChanged.emit(new)
        self.status.setText("Saved." + (" The new data folder is used from the next start." if moved else ""))
