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


def train_field_error(name: str) -> str:
    return f"train-{name}-error"


def job_card(job_id: str) -> str:
    return f"job-{job_id}"

# ---- Attention (sequence-to-sequence models) -------------------------------------------------------
ATTENTION_MODEL = "attention-model"
ATTENTION_TEXT = "attention-text"
ATTENTION_EXAMPLE = "attention-example"
ATTENTION_VIEW = "attention-view"
ATTENTION_TABLE = "attention-table"
ATTENTION_OUTPUT = "attention-output"
