"""Home: players and groups, recent sessions with their progress and gains, start or
resume a session, and the first-run welcome.

Reads and writes go through core functions on the DB worker; the screen shows results
and asks the main window (by signal) to open the session runner or the results. It
redraws on ``Changes`` to players, sessions or the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conceptcoach.desktop.changes import Changes
from conceptcoach.desktop.screens.widgets import Redraw, plural
from conceptcoach.desktop.workers import Context, Workers
from conceptcoach.study.phases import Phase
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

RECENT_SESSIONS = 40


@dataclass(frozen=True)
class SessionRow:
    id: int
    player_id: int
    player: str
    created_at: str
    mode: str
    label: str
    phase: Phase
    done: int
    total: int
    gain: float | None  # positions per concept (post - pre), concept items only
    per_phase: float | None


@dataclass(frozen=True)
class HomeData:
    players: list[Any]
    groups: list[Any]
    sessions: list[SessionRow]
    concepts: int


def load_home(ctx: Context) -> HomeData:
    """Everything Home shows but the gains, in one DB operation (light imports only, so
    Home is ready quickly after start; the gains follow from :func:`load_gains`)."""
    from conceptcoach.store.concepts import list_concepts
    from conceptcoach.store.players import list_groups, list_players
    from conceptcoach.store.sessions import list_sessions
    from conceptcoach.study.runner import session_state

    db = ctx.db
    players = list_players(db)
    names = {p.id: p.name for p in players}
    rows = []
    for s in list_sessions(db)[:RECENT_SESSIONS]:
        state = session_state(db, s.id)
        rows.append(SessionRow(
            id=s.id, player_id=s.player_id, player=names.get(s.player_id, f"player {s.player_id}"),
            created_at=s.created_at, mode=s.mode, label=s.label, phase=state.phase, done=state.done_items,
            total=state.total_items, gain=None, per_phase=None,
        ))
    return HomeData(players, list_groups(db), rows, len(list_concepts(db)))


def load_gains(ctx: Context, session_ids: list[int]) -> dict[int, tuple[float, float]]:
    """Mean gain (positions per concept) and positions per phase of each session that has one."""
    from conceptcoach.study.stats import gain_report

    if not session_ids:
        return {}
    # Home shows only the mean; intervals (bootstrap) are on the Results screen.
    report = gain_report(ctx.db, session_ids=session_ids, n_boot=200)
    return {sid: (s.mean_gain_positions, s.per_phase) for sid, s in report.by_session.items()}


WELCOME = """<h2>Welcome to Concept Coach</h2>
<p>Concept Coach teaches chess ideas that a self-taught network knows: concepts found in
its own games, each with example positions (prototypes).</p>
<ol>
<li><b>Add a player</b> on the left (the coach's student, or yourself).</li>
<li><b>Start a session</b>: a pre-test without help, a learning phase with the network's
moves, lines and values, then a post-test on new positions.</li>
<li><b>Read the results</b>: the learning gain per concept, with its uncertainty, and exports.</li>
</ol>
<p>Browse the ideas under <b>Concepts</b>; find new ones in your own games under <b>Discovery</b>.
Keyboard: Ctrl+1…6 switch screens, Ctrl+N starts a session for the selected player.</p>"""


class HomeScreen(QWidget):
    newSessionRequested = Signal(int)  # player id
    resumeRequested = Signal(int)  # session id
    resultsRequested = Signal(int, int)  # player id, session id (0: all of the player's)
    welcomeDismissed = Signal()

    def __init__(self, workers: Workers, show_welcome: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.data: HomeData | None = None
        self.library_pending = False  # the main window is registering the bundled library
        self._select_after_load: int | None = None  # a player just added
        self.redraw = Redraw(self, self.refresh)
        workers.changed.connect(self.on_changes)

        self.welcome = QFrame(self)
        self.welcome.setObjectName("welcome")
        self.welcome.setStyleSheet("#welcome { background: palette(alternate-base); border: 1px solid palette(mid);"
                                   " border-radius: 8px; }")
        wl = QHBoxLayout(self.welcome)
        text = QLabel(WELCOME, self.welcome)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.got_it = QPushButton("Got it", self.welcome)
        self.got_it.clicked.connect(self._dismiss_welcome)
        wl.addWidget(text, 1)
        wl.addWidget(self.got_it, 0, Qt.AlignmentFlag.AlignTop)
        self.welcome.setVisible(show_welcome)

        # Players
        self.players = QListWidget(self)
        self.players.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.players.itemSelectionChanged.connect(self._player_selected)
        self.players.itemDoubleClicked.connect(lambda _i: self._new_session())
        self.player_name = QLineEdit(self)
        self.player_name.setPlaceholderText("New player's name")
        self.player_rating = QSpinBox(self)
        self.player_rating.setRange(0, 3500)
        self.player_rating.setSpecialValueText("no rating")
        self.player_rating.setToolTip("Rating (optional)")
        self.add_player = QPushButton("Add player", self)
        self.add_player.clicked.connect(self._add_player)
        self.player_name.returnPressed.connect(self._add_player)
        # Enter in the rating field adds the player too (the spin box passes Return on to its line edit).
        rating_edit = self.player_rating.findChild(QLineEdit)
        if rating_edit is not None:
            rating_edit.returnPressed.connect(self._add_player)
        self.player_message = QLabel(self)
        self.player_message.setWordWrap(True)
        self.players_empty = QLabel("No players yet. Type a name below and press Add player.", self)
        self.players_empty.setWordWrap(True)
        self.players_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.players_stack = QStackedWidget(self)
        self.players_stack.addWidget(self.players_empty)
        self.players_stack.addWidget(self.players)
        self.start = QPushButton("New session…", self)
        self.start.setToolTip("Plan and start a session for the selected player (Ctrl+N)")
        self.start.setDefault(True)
        self.start.clicked.connect(self._new_session)
        self.player_results = QPushButton("Player's results", self)
        self.player_results.clicked.connect(self._player_results)

        add_row = QHBoxLayout()
        add_row.addWidget(self.player_name, 1)
        add_row.addWidget(self.player_rating)
        add_row.addWidget(self.add_player)
        action_row = QHBoxLayout()
        action_row.addWidget(self.start, 1)
        action_row.addWidget(self.player_results)
        players_box = QGroupBox("Players", self)
        pl = QVBoxLayout(players_box)
        pl.addWidget(self.players_stack, 1)
        pl.addLayout(add_row)
        pl.addWidget(self.player_message)
        pl.addLayout(action_row)

        # Groups
        self.groups = QListWidget(self)
        self.groups.itemClicked.connect(self._group_selected)
        self.groups_empty = QLabel("No groups yet. Select players above, name a group below and press "
                                   "Add group (a group can take a session together).", self)
        self.groups_empty.setWordWrap(True)
        self.groups_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.groups_stack = QStackedWidget(self)
        self.groups_stack.addWidget(self.groups_empty)
        self.groups_stack.addWidget(self.groups)
        self.group_name = QLineEdit(self)
        self.group_name.setPlaceholderText("New group from the selected players")
        self.add_group = QPushButton("Add group", self)
        self.add_group.clicked.connect(self._add_group)
        groups_box = QGroupBox("Groups", self)
        gl = QVBoxLayout(groups_box)
        gl.addWidget(self.groups_stack, 1)
        grow = QHBoxLayout()
        grow.addWidget(self.group_name, 1)
        grow.addWidget(self.add_group)
        gl.addLayout(grow)

        # Sessions
        self.sessions = QTableWidget(0, 6, self)
        self.sessions.setHorizontalHeaderLabels(["Player", "Started", "Mode", "Progress", "Gain", "Label"])
        self.sessions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sessions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sessions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sessions.verticalHeader().setVisible(False)
        header = self.sessions.horizontalHeader()
        for c in range(6):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.sessions.itemSelectionChanged.connect(self._session_selected)
        self.sessions.itemDoubleClicked.connect(lambda _i: self._open_selected())
        self.sessions_empty = QLabel("No sessions yet. Select a player and press New session…", self)
        self.sessions_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sessions_empty.setWordWrap(True)
        self.sessions_stack = QStackedWidget(self)
        self.sessions_stack.addWidget(self.sessions_empty)
        self.sessions_stack.addWidget(self.sessions)
        self.resume = QPushButton("Resume", self)
        self.resume.setToolTip("Continue the selected session where it stopped")
        self.resume.clicked.connect(self._open_selected)
        self.session_results = QPushButton("Results", self)
        self.session_results.clicked.connect(self._session_results)
        srow = QHBoxLayout()
        srow.addStretch(1)
        srow.addWidget(self.resume)
        srow.addWidget(self.session_results)
        sessions_box = QGroupBox("Recent sessions", self)
        sl = QVBoxLayout(sessions_box)
        sl.addWidget(self.sessions_stack, 1)
        sl.addLayout(srow)

        self.summary = QLabel(self)
        self.summary.setWordWrap(True)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(players_box, 3)
        ll.addWidget(groups_box, 2)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(sessions_box)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)

        title = QLabel("<h1>Concept Coach</h1>", self)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.welcome)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    # ------------------------------------------------------------------ data
    def on_changes(self, changes: Changes) -> None:
        if changes.players or changes.sessions or changes.concepts:
            self.redraw.needed()

    def refresh(self) -> None:
        self.workers.db(load_home, name="home", on_success=self._loaded,
                        on_failure=lambda msg: self.summary.setText(f"<b>Could not read the store:</b> {msg}"))

    def _loaded(self, data: HomeData) -> None:
        selected = set(self.selected_player_ids())
        if self._select_after_load is not None:
            selected, self._select_after_load = {self._select_after_load}, None
        self.data = data
        self.players.clear()
        for p in data.players:
            text = p.name + (f"  ({p.rating})" if p.rating else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            self.players.addItem(item)
            item.setSelected(p.id in selected)
        self.players_stack.setCurrentWidget(self.players if data.players else self.players_empty)
        if data.players and not self.players.selectedItems():
            self.players.setCurrentRow(0)
        self.groups.clear()
        names = {p.id: p.name for p in data.players}
        for g in data.groups:
            members = ", ".join(names.get(i, "?") for i in g.member_ids) or "no members"
            item = QListWidgetItem(f"{g.name} — {members}")
            item.setData(Qt.ItemDataRole.UserRole, list(g.member_ids))
            self.groups.addItem(item)
        self.groups_stack.setCurrentWidget(self.groups if data.groups else self.groups_empty)
        self.sessions.setRowCount(len(data.sessions))
        for i, s in enumerate(data.sessions):
            progress = s.phase.display
            if s.phase is not Phase.DONE:
                progress += f" ({s.done}/{s.total})"
            gain = "–" if s.gain is None else f"{s.gain:+.2f} of {s.per_phase:.0f}"
            cells = [s.player, s.created_at[:16].replace("T", " "), s.mode, progress, gain, s.label]
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, s.id)
                self.sessions.setItem(i, c, cell)
        self.sessions_stack.setCurrentWidget(self.sessions if data.sessions else self.sessions_empty)
        # A gain is the post-test against the pre-test: only a finished session has one.
        ids = [r.id for r in data.sessions if r.phase is Phase.DONE]
        if ids:
            self.workers.db(lambda ctx: load_gains(ctx, ids), name="home gains", on_success=self._gains)
        if data.concepts == 0 and self.library_pending:
            self.summary.setText("Loading the bundled concept library (first start or a new version)…")
        elif data.concepts == 0:
            self.summary.setText("<b>The concept library is empty</b>: sessions need concepts. Open "
                                 "<b>Discovery</b> to find some, or reinstall to get the default library.")
        else:
            self.summary.setText(f"{plural(len(data.players), 'player')} · "
                                 f"{plural(len(data.sessions), 'recent session')} · "
                                 f"{plural(data.concepts, 'concept')} in the library")
        self._update_buttons()

    def _gains(self, gains: dict[int, tuple[float, float]]) -> None:
        if self.data is None:
            return
        for i in range(self.sessions.rowCount()):
            item = self.sessions.item(i, 4)
            if item is None:
                continue
            sid = int(item.data(Qt.ItemDataRole.UserRole))
            if sid in gains:
                gain, per_phase = gains[sid]
                item.setText(f"{gain:+.2f} of {per_phase:.0f}")
                item.setToolTip("Mean gain per concept: post-test minus pre-test, in positions")

    # ------------------------------------------------------------------ selection
    def selected_player_ids(self) -> list[int]:
        return [int(i.data(Qt.ItemDataRole.UserRole)) for i in self.players.selectedItems()]

    def selected_session(self) -> SessionRow | None:
        items = self.sessions.selectedItems()
        if not items or self.data is None:
            return None
        sid = int(items[0].data(Qt.ItemDataRole.UserRole))
        return next((s for s in self.data.sessions if s.id == sid), None)

    def _player_selected(self) -> None:
        self._update_buttons()

    def _session_selected(self) -> None:
        self._update_buttons()

    def _group_selected(self, item: QListWidgetItem) -> None:
        members = set(item.data(Qt.ItemDataRole.UserRole))
        for i in range(self.players.count()):
            p = self.players.item(i)
            p.setSelected(int(p.data(Qt.ItemDataRole.UserRole)) in members)

    def _update_buttons(self) -> None:
        one = len(self.selected_player_ids()) == 1
        self.start.setEnabled(one)
        self.player_results.setEnabled(one)
        s = self.selected_session()
        self.resume.setEnabled(s is not None and s.phase is not Phase.DONE)
        self.session_results.setEnabled(s is not None)
        self.add_group.setEnabled(bool(self.selected_player_ids()))

    # ------------------------------------------------------------------ actions
    def _dismiss_welcome(self) -> None:
        self.welcome.hide()
        self.welcomeDismissed.emit()

    def _add_player(self) -> None:
        name = self.player_name.text().strip()
        if not name:
            self.player_message.setText("Type the player's name first.")
            return
        rating = self.player_rating.value() or None

        def work(ctx: Context) -> Any:
            from conceptcoach.store.players import add_player

            return add_player(ctx.db, name, rating=rating)

        def done(player: Any) -> None:
            self.player_name.clear()
            self.player_rating.setValue(0)
            self.player_message.setText(f"Added {player.name}.")
            self._select_after_load = player.id  # selected when Home redraws on the change

        self.workers.db(work, name="add player", on_success=done, changes=Changes(players=True),
                        on_failure=lambda msg: self.player_message.setText(f"Not added: {msg}"))

    def _add_group(self) -> None:
        name = self.group_name.text().strip()
        members = tuple(self.selected_player_ids())
        if not name:
            self.player_message.setText("Type the group's name first.")
            return

        def work(ctx: Context) -> Any:
            from conceptcoach.store.players import add_group

            return add_group(ctx.db, name, member_ids=members)

        def done(_group: Any) -> None:
            self.group_name.clear()
            self.player_message.setText(f"Group {name} added with {plural(len(members), 'player')}.")

        self.workers.db(work, name="add group", on_success=done, changes=Changes(players=True),
                        on_failure=lambda msg: self.player_message.setText(f"Group not added: {msg}"))

    def _new_session(self) -> None:
        ids = self.selected_player_ids()
        if len(ids) == 1:
            self.newSessionRequested.emit(ids[0])
        else:
            self.player_message.setText("Select one player first (or add one).")

    def new_session_shortcut(self) -> None:
        self._new_session()

    def _player_results(self) -> None:
        ids = self.selected_player_ids()
        if len(ids) == 1:
            self.resultsRequested.emit(ids[0], 0)

    def _open_selected(self) -> None:
        s = self.selected_session()
        if s is None:
            return
        if s.phase is Phase.DONE:
            self.resultsRequested.emit(s.player_id, s.id)
        else:
            self.resumeRequested.emit(s.id)

    def _session_results(self) -> None:
        s = self.selected_session()
        if s is not None:
            self.resultsRequested.emit(s.player_id, s.id)
