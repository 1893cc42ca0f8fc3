"""Streamlit glue: cached reads over panopticum_data, keyed by the registry's data version."""
