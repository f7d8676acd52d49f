"""Softmax Studio: routes to the pages; nothing else lives here."""
import streamlit as st

st.set_page_config(page_title="Softmax Studio", page_icon="👕", layout="wide")
st.navigation([
    st.Page("app_pages/home.py", title="Softmax Studio", icon=":material/home:", default=True),
    st.Page("app_pages/dataset.py", title="Dataset", icon=":material/grid_view:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/predict.py", title="Predict", icon=":material/draw:"),
], position="top").run()
