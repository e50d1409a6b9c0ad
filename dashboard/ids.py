"""Component ids in one place. The first five are a public contract for browser automation."""

SENTENCE_INPUT = "sentence-input"
MODEL_PICKER = "model-picker"
TRAJECTORY_GRAPH = "trajectory-graph"
TOKEN_STRIP = "token-strip"
PREDICTION_GRAPH = "prediction-graph"

URL = "url"
DEBOUNCED_TEXT = "debounced-text"
TRAJECTORY_DATA = "trajectory-data"
MODEL_MESSAGE = "model-message"
TEXT_NOTICE = "text-notice"
PREDICTION_TEXT = "prediction-text"
VIEW_MODE = "view-mode"
TOKEN_SLIDER = "token-slider"
PLAY_BUTTON = "play-button"
PLAY_INTERVAL = "play-interval"
HOVER_TOKEN = "hover-token"
COPY_LINK = "copy-link"
HELP_PANEL = "help-panel"
EXAMPLE_CHIP = "example-chip"  # pattern-matching type
TOKEN_CHIP = "token-chip"      # pattern-matching type
MODELS_TABLE = "models-table"
