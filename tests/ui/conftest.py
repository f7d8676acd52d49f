"""The ui package's tests run the app under AppTest too, with the same fresh settings per test."""
from tests.app_pages.conftest import fresh_settings, no_dataset  # noqa: F401 - fixtures, shared
