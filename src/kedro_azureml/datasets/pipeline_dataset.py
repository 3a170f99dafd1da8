"""``AzureMLPipelineDataset``: any Kedro dataset, kept under a folder Azure ML can mount."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import parse_dataset_definition


def wrapped_dataset_config(
    dataset: str | type[AbstractDataset] | dict[str, Any], *, owner: str
) -> dict[str, Any]:
    """``dataset=`` as a config dict: a type (string or class) becomes ``{"type": ...}``."""
    if isinstance(dataset, dict):
        if "type" not in dataset:
            raise DatasetError(f"{owner}: 'dataset' needs a 'type', got {dataset!r}.")
        return dict(dataset)
    if isinstance(dataset, (str, type)):
        return {"type": dataset}
    raise DatasetError(
        f"{owner}: 'dataset' must be a dataset type or a config dict, got {type(dataset).__name__}."
    )


def relative_filepath(dataset_config: dict[str, Any], filepath_arg: str, *, owner: str) -> str:
    """The wrapped dataset's path, relative to ``root_dir`` ("" when it has none).

    In a project, Kedro makes every relative ``filepath``/``path`` of the catalog absolute
    under the project folder, nested ones included; that is undone here.
    """
    value = dataset_config.get(filepath_arg, "")
    if not isinstance(value, str):
        raise DatasetError(f"{owner}: '{filepath_arg}' must be a string, got {value!r}.")
    if not PurePosixPath(value).is_absolute():
        return value
    from kedro.utils import find_kedro_project

    project = Path(find_kedro_project(Path.cwd()) or Path.cwd())
    for base in (project, project.resolve()):
        try:
            return PurePosixPath(value).relative_to(base.as_posix()).as_posix()
        except ValueError:
            continue
    raise DatasetError(
        f"{owner}: '{filepath_arg}' must be relative to root_dir, got the absolute path {value}."
    )


def build_dataset(config: dict[str, Any], *, owner: str) -> AbstractDataset:
    try:
        class_obj, kwargs = parse_dataset_definition(dict(config))
        return class_obj(**kwargs)  # type: ignore[no-any-return]
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{owner}: cannot build the wrapped dataset {config!r}: {exc}") from exc


class AzureMLPipelineDataset(AbstractDataset[Any, Any]):
    """Wraps any Kedro dataset and keeps its file under ``root_dir``.

    The wrapped dataset reads and writes ``root_dir/<filepath>``. In an Azure ML step (and in
    ``kedro azureml run --local``) the step executor redirects it with :meth:`with_folder` to
    the folder Azure ML mounted for it, so the data crosses steps in its own format: a CSV
    stays a CSV that Azure ML Studio can preview. Without a ``filepath`` in ``dataset``, the
    path is ``root_dir`` itself (for datasets that own a folder, e.g. partitions).

    Example usage for the `YAML API <https://docs.kedro.org/en/stable/catalog-data/data_catalog_yaml_examples/>`_:

    .. code-block:: yaml

        model_input_table:
          type: kedro_azureml.datasets.AzureMLPipelineDataset
          root_dir: data/03_primary
          dataset:
            type: pandas.CSVDataset
            filepath: model_input_table.csv

    Example usage for the `Python API <https://docs.kedro.org/en/stable/catalog-data/advanced_data_catalog_usage/>`_:

    .. code-block:: pycon

        >>> import pandas as pd
        >>> from kedro_azureml.datasets import AzureMLPipelineDataset
        >>>
        >>> data = pd.DataFrame({"col1": [1, 2], "col2": [4, 5]})
        >>> dataset = AzureMLPipelineDataset(
        ...     dataset={"type": "pandas.CSVDataset", "filepath": "table.csv"},
        ...     root_dir=str(tmp_path),
        ... )
        >>> dataset.save(data)
        >>> reloaded = dataset.load()
        >>> assert data.equals(reloaded)
        >>> in_step = dataset.with_folder(str(tmp_path / "mounted"))
        >>> in_step.path == tmp_path / "mounted" / "table.csv"
        True
    """

    DEFAULT_ROOT_DIR: ClassVar[str] = "data"
    DEFAULT_FILEPATH_ARG: ClassVar[str] = "filepath"

    def __init__(
        self,
        *,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str = DEFAULT_ROOT_DIR,
        filepath_arg: str = DEFAULT_FILEPATH_ARG,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates a new instance of ``AzureMLPipelineDataset``.

        Args:
            dataset: The wrapped dataset: a type (``"pandas.CSVDataset"``) or its config dict.
                Its ``filepath_arg`` entry is relative to ``root_dir``.
            root_dir: The folder that holds the data; replaced by the mounted folder on Azure.
            filepath_arg: The wrapped dataset's argument that takes its path.
            metadata: Any arbitrary metadata; ignored by Kedro.
        """
        owner = type(self).__name__
        self._dataset_config = wrapped_dataset_config(dataset, owner=owner)
        relative = relative_filepath(self._dataset_config, filepath_arg, owner=owner)
        if filepath_arg in self._dataset_config:
            self._dataset_config[filepath_arg] = relative
        self._root_dir = root_dir
        self._filepath_arg = filepath_arg
        self._relative_path = relative
        self.metadata = metadata
        self._dataset = build_dataset(
            {**self._dataset_config, filepath_arg: str(self.path)}, owner=owner
        )

    @property
    def path(self) -> Path:
        """Where the wrapped dataset reads and writes: ``root_dir/<filepath>``."""
        return Path(self._root_dir) / self._relative_path

    @property
    def root_dir(self) -> str:
        return self._root_dir

    def with_folder(self, folder: str) -> AzureMLPipelineDataset:
        """The same dataset, kept under ``folder`` (a step's mounted input or output)."""
        return type(self)(
            dataset=self._dataset_config,
            root_dir=str(folder),
            filepath_arg=self._filepath_arg,
            metadata=self.metadata,
        )

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        self._dataset.save(data)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _release(self) -> None:
        self._dataset.release()

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": str(self._dataset_config["type"]),
            "root_dir": self._root_dir,
            "path": str(self.path),
        }
