"""Softmax Studio: routes to the pages; nothing else lives here."""
import streamlit as st

from ui.i18n import t

st.set_page_config(page_title="Softmax Studio", page_icon="👕", layout="wide")
st.navigation([
    st.Page("app_pages/home.py", title=t("common.nav.home"), icon=":material/home:", default=True),
    st.Page("app_pages/dataset.py", title=t("common.nav.dataset"), icon=":material/grid_view:", url_path="dataset"),
    st.Page("app_pages/train.py", title=t("common.nav.train"), icon=":material/model_training:", url_path="train"),
    st.Page("app_pages/predict.py", title=t("common.nav.predict"), icon=":material/draw:", url_path="predict"),
], position="top").run()
