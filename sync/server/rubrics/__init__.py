"""Rubrics on the server: the built-in and published rubric versions a district knows."""
