"""Look-fors as data: the rubric format, its validator and the built-in rubrics. Imports no other package.

Public names: Rubric, Scale, Level, Domain, LookFor, Source, grade_span (the schema); RubricProblem, RubricInvalid
(errors);
parse_rubric, load_rubric, validate_files, builtin_rubrics, builtin_rubric_paths, csv_to_yaml (the loader).
The limits on a file (size, nesting, look-fors, version...) are defined once in rubrics.limits. The file format and
the limits are described in docs/rubric-format.md.
"""
from rubrics.csv_import import csv_to_yaml
from rubrics.loader import builtin_rubric_paths, builtin_rubrics, load_rubric, parse_rubric, validate_files
from rubrics.problems import RubricInvalid, RubricProblem
from rubrics.schema import Domain, Level, LookFor, Rubric, Scale, Source, grade_span

__all__ = ["Domain", "Level", "LookFor", "Rubric", "Scale", "Source", "grade_span", "RubricInvalid", "RubricProblem",
           "builtin_rubric_paths", "builtin_rubrics", "csv_to_yaml", "load_rubric", "parse_rubric", "validate_files"]
