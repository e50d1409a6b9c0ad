"""Every component id of the dashboard, in one place. The first five are a public contract for browser
automation; assets/explore.js and the browser tests read some of the others by value, so a value
changes only together with them."""

# ---- Explore (the public contract) --------------------------------------------------------------
SENTENCE_INPUT = "sentence-input"
MODEL_PICKER = "model-picker"
TRAJECTORY_GRAPH = "trajectory-graph"
TOKEN_STRIP = "token-strip"
PREDICTION_GRAPH = "prediction-graph"

# ---- Explore -------------------------------------------------------------------------------------
URL = "url"
DEBOUNCED_TEXT = "debounced-text"
TRAJECTORY_DATA = "trajectory-data"
MODEL_INFO = "model-info"
MODEL_MESSAGE = "model-message"
TEXT_NOTICE = "text-notice"
PREDICTION_TEXT = "prediction-text"
VIEW_MODE = "view-mode"
TOKEN_SLIDER = "token-slider"
STEP_LABEL = "step-label"
PLAY_BUTTON = "play-button"
PLAY_INTERVAL = "play-interval"
PLAY_SPEED = "play-speed"
CLOUD_GRAPH = "cloud-graph"  # the attractor cloud under TRAJECTORY_GRAPH (drawn once per model)
HOVER_TOKEN = "hover-token"
COPY_LINK = "copy-link"
SHARE_URL = "share-url"
HELP_PANEL = "help-panel"
EXAMPLE_CHIPS = "example-chips"
EXAMPLE_CHIP = "example-chip"  # pattern-matching type
TRAINING_PANEL = "training-panel"    # "watch the attractor form": the training-time checkpoints
TRAINING_SLIDER = "training-slider"
TRAINING_GRAPH = "training-graph"
TRAINING_NOTE = "training-note"
TRAINING_CONTROLS = "training-controls"
TRAINING_TEXT = "training-text"  # the text the panel shows: the typed one, passed on only while the panel is in view

# ---- every analysis page -------------------------------------------------------------------------


def page_body(path: str) -> str:
    """The body a page redraws when its model (or option) changes, e.g. "words-body" for /words."""
    return f"{path.strip('/')}-body"


def url_sync(path: str) -> str:
    """The hidden span the client-side URL sync writes to (and a page's text input reads from)."""
    return f"{path.strip('/')}-url-sync"


# ---- Fixed points, Words, Linearization, Decomposition, Models -----------------------------------
FP_GRAPH = "fp-graph"
FP_DETAIL = "fp-detail"
FP_TABLE = "fp-table"
FP_SELECTED = "fp-selected"
FP_SCROLL = "fp-scroll"
FP_MIGRATION_GRAPH = "fp-migration-graph"
WORDS_SEARCH = "words-search"
LINEARIZATION_TEXT = "linearization-text"
DECOMPOSITION_PICK = "decomposition-words"
MODELS_TABLE = "models-table"

# ---- Compare -------------------------------------------------------------------------------------
COMPARE_MODEL_A = "compare-model-a"
COMPARE_MODEL_B = "compare-model-b"
COMPARE_TEXT = "compare-text"
COMPARE_GRAPH = "compare-graph"            # pattern-matching type, one per side
COMPARE_PREDICTION = "compare-prediction"  # pattern-matching type, one per side

# ---- Train ---------------------------------------------------------------------------------------
TRAIN_START = "train-start"
TRAIN_ESTIMATE = "train-estimate"
TRAIN_FORM_MESSAGE = "train-form-message"
TRAIN_JOB_TO_RUN = "train-job-to-run"
TRAIN_RUNS_SIGNATURE = "train-runs-signature"
TRAIN_POLL = "train-poll"
TRAIN_JOBS = "train-jobs"
TRAIN_CURVE = "train-curve"
TRAIN_CURVE_PICK = "train-curve-pick"
TRAIN_CURVE_EMPTY = "train-curve-empty"
TRAIN_CANCELLING = "train-cancelling"
TRAIN_USER_RUNS = "train-user-runs"
JOB_CANCEL = "job-cancel"  # pattern-matching type, one per job card
RUN_DELETE = "run-delete"  # pattern-matching type, one per user run


def train_field(name: str) -> str:
    """A Train form field (``dashboard.train_form.FIELDS``), e.g. "train-units"."""
    return f"train-{name}"


def train_field_box(name: str) -> str:
    """The box of a Train form field: its label, input and error (hidden when the field does not apply)."""
    return f"train-{name}-box"


def train_field_error(name: str) -> str:
    return f"train-{name}-error"


def job_card(job_id: str) -> str:
    return f"job-{job_id}"

# ---- Train: your own data and model (dashboard/components/own_data_view.py) ----------------------
OWN_TABS = "own-tabs"
OWN_CSV_UPLOAD = "own-csv-upload"
OWN_CSV_ACCEPTED = "own-csv-accepted"    # the upload once the browser found it under the size cap
OWN_CSV_SUMMARY = "own-csv-summary"
OWN_CSV_START = "own-csv-start"
OWN_CSV_MESSAGE = "own-csv-message"
OWN_MODEL_UPLOAD = "own-model-upload"
OWN_MODEL_ACCEPTED = "own-model-accepted"
OWN_MODEL_SUMMARY = "own-model-summary"
OWN_MODEL_RUN_ID = "own-model-run-id"
OWN_MODEL_START = "own-model-start"
OWN_MODEL_MESSAGE = "own-model-message"


def own_csv_field(name: str) -> str:
    """A field of the "Train on your CSV" form (``dashboard.own_data.CSV_FIELDS``), e.g. "own-csv-units"."""
    return f"own-csv-{name}"


def own_csv_field_error(name: str) -> str:
    return f"own-csv-{name}-error"

# ---- Attention (sequence-to-sequence models) -------------------------------------------------------
ATTENTION_MODEL = "attention-model"
ATTENTION_TEXT = "attention-text"
ATTENTION_EXAMPLE = "attention-example"
ATTENTION_VIEW = "attention-view"
ATTENTION_TABLE = "attention-table"
ATTENTION_OUTPUT = "attention-output"

# ---- Export (buttons on Explore: dashboard/components/export_buttons.py, assets/export.js) ----------
EXPORT_PNG = "export-png"
EXPORT_SVG = "export-svg"
EXPORT_HTML = "export-html"
EXPORT_CSV = "export-csv"
EXPORT_GIF = "export-gif"
EXPORT_REQUEST = "export-request"            # {kind, view, at}: which file the server should make, and the camera
EXPORT_DOWNLOAD = "export-download"          # the server's files (HTML, CSV, GIF)
EXPORT_IMAGE_DOWNLOAD = "export-image-download"  # the browser's files (PNG, SVG of the current view)
EXPORT_STATUS = "export-status"

# ---- Lesson mode (/lesson: dashboard/pages/lesson.py, assets/lesson.js) -------------------------------
LESSON_DATA = "lesson-data"
LESSON_INFO = "lesson-info"
LESSON_STEP = "lesson-step"              # tokens shown (0..n); assets/lesson.js sets it from the keyboard
LESSON_CLOUD = "lesson-cloud"
LESSON_GRAPH = "lesson-graph"
LESSON_CAPTION = "lesson-caption"
LESSON_MESSAGE = "lesson-message"
LESSON_PREDICTION = "lesson-prediction"
LESSON_STRIP = "lesson-strip"
LESSON_PLAY = "lesson-play"
LESSON_SPEED = "lesson-speed"
LESSON_ROTATE = "lesson-rotate"
LESSON_STEP_LABEL = "lesson-step-label"
LESSON_TOUR_STEP = "lesson-tour-step"
LESSON_LINK = "lesson-link"              # on Explore: this view in lesson mode
# ---- Studies (issue 19) ----------------------------------------------------------------------------
STUDY_PICK = "study-pick"
STUDY_BODY = "study-body"
STUDY_GRAPH = "study-graph"      # pattern-matching type, one per figure
STUDY_RUN = "study-run"
STUDY_RUN_MESSAGE = "study-run-message"
STUDY_JOBS = "study-jobs"
STUDY_POLL = "study-poll"
STUDY_URL_SYNC = "study-url-sync"
# ---- Explore: counterfactual edits and overlays (dashboard/explore_edits.py) -----------------------------
EDIT_TARGET = "edit-target"        # the clicked token's position (assets/explore.js sets it)
EDIT_MENU = "edit-menu"
EDIT_LABEL = "edit-label"
EDIT_DROP = "edit-drop"
EDIT_NEGATE = "edit-negate"
EDIT_SWAP = "edit-swap"            # dropdown of suggested words; choosing one applies the swap
EDIT_CLOSE = "edit-close"
EDIT_RESULT = "edit-result"
EDIT_STALE = "edit-stale"  # a new text while an edit is shown: the edit no longer applies (set client-side)
EDIT_SUMMARY = "edit-summary"
EDIT_GRAPH = "edit-graph"
OVERLAY_TEXTS = "overlay-texts"    # store: the overlaid texts, also in the URL as repeated overlay= params
OVERLAY_INPUT = "overlay-input"
OVERLAY_ADD = "overlay-add"
OVERLAY_LIST = "overlay-list"
OVERLAY_REMOVE = "overlay-remove"  # pattern-matching type, one per overlaid text
