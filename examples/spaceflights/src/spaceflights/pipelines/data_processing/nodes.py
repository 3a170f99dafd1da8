"""Nodes of the data_processing pipeline."""

from __future__ import annotations

import pandas as pd


def _is_true(column: pd.Series) -> pd.Series:
    """Turn a "t"/"f" text column into booleans; anything else (incl. missing) is False."""
    return column.astype("string").str.strip().str.lower().eq("t").fillna(False).astype(bool)


def _parse_percentage(column: pd.Series) -> pd.Series:
    """Turn text like "90%" into the float 0.9; missing values stay missing."""
    text = column.astype("string").str.rstrip("%")
    return pd.to_numeric(text, errors="coerce").astype("float64") / 100


def _parse_money(column: pd.Series) -> pd.Series:
    """Turn text like "$1,325.0" into the float 1325.0; missing values stay missing."""
    text = column.astype("string").str.replace("$", "", regex=False)
    text = text.str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def preprocess_companies(companies: pd.DataFrame) -> pd.DataFrame:
    """Parse the approval flag and the rating of each company.

    Args:
        companies: Raw companies table.

    Returns:
        Companies with ``iata_approved`` as bool and ``company_rating`` in [0, 1].
    """
    companies = companies.copy()
    companies["iata_approved"] = _is_true(companies["iata_approved"])
    companies["company_rating"] = _parse_percentage(companies["company_rating"])
    return companies


def preprocess_shuttles(shuttles: pd.DataFrame) -> pd.DataFrame:
    """Parse the check flags and the price of each shuttle.

    Args:
        shuttles: Raw shuttles table.

    Returns:
        Shuttles with boolean check columns and a float ``price``.
    """
    shuttles = shuttles.copy()
    shuttles["d_check_complete"] = _is_true(shuttles["d_check_complete"])
    shuttles["moon_clearance_complete"] = _is_true(shuttles["moon_clearance_complete"])
    shuttles["price"] = _parse_money(shuttles["price"])
    return shuttles


def create_model_input_table(
    shuttles: pd.DataFrame, companies: pd.DataFrame, reviews: pd.DataFrame
) -> pd.DataFrame:
    """Join shuttles with their reviews and companies into one modelling table.

    Args:
        shuttles: Preprocessed shuttles.
        companies: Preprocessed companies.
        reviews: Raw reviews, one row per shuttle.

    Returns:
        One row per reviewed shuttle, without rows that have missing values.
    """
    rated_shuttles = shuttles.merge(reviews, left_on="id", right_on="shuttle_id")
    rated_shuttles = rated_shuttles.drop(columns="id")
    model_input_table = rated_shuttles.merge(companies, left_on="company_id", right_on="id")
    return model_input_table.dropna().reset_index(drop=True)
