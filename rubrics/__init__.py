"""Look-fors as data: the rubric format, its validator and the built-in rubrics. Imports no other package.

Public names: Rubric, Scale, Level, Domain, LookFor (the schema); RubricProblem, RubricInvalid (errors);
parse_rubric, load_rubric, validate_files, builtin_rubrics, builtin_rubric_paths, csv_to_yaml (the loader).
"""
from rubrics.schema import Domain, Level, LookFor, Rubric, Scale

__all__ = ["Domain", "Level", "LookFor", "Rubric", "Scale"]

try:  # the loader lands with the rubric format work; the schema alone is importable before it
    from rubrics.loader import (  # noqa: F401
        RubricInvalid,
        RubricProblem,
        builtin_rubric_paths,
        builtin_rubrics,
        csv_to_yaml,
        load_rubric,
        parse_rubric,
        validate_files,
    )

    __all__ += ["RubricInvalid", "RubricProblem", "builtin_rubric_paths", "builtin_rubrics", "csv_to_yaml",
                "load_rubric", "parse_rubric", "validate_files"]
except ImportError:  # pragma: no cover
    pass
