"""Softmax Studio: routes to the pages; nothing else lives here."""
import streamlit as st

st.set_page_config(page_title="Softmax Studio", page_icon="👕", layout="wide")
st.navigation([
    st.Page("pages/dataset.py", title="Dataset", icon="🖼️"),
]).run()
