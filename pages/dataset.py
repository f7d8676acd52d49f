import streamlit as st

st.title("Dataset")
