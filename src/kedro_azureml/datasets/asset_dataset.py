"""``AzureMLAssetDataset``: a Kedro dataset backed by an Azure ML v2 data asset."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from kedro.io import AbstractDataset, DatasetError, Version

from kedro_azureml.cloud.assets import download_asset, locate_asset
from kedro_azureml.cloud.workspace import connect
from kedro_azureml.config import Workspace
from kedro_azureml.contract.assets import AssetSpec, normalize_version
from kedro_azureml.datasets.pipeline_dataset import (
    build_dataset,
    relative_filepath,
    wrapped_dataset_config,
)


class AzureMLAssetDataset(AbstractDataset[Any, Any]):
    """Reads and writes an Azure ML data asset (``uri_folder`` or ``uri_file``) through any
    Kedro dataset.

    Where the data comes from:

    * **In an Azure ML step** the asset is mounted (inputs: ``azureml:<name>:<version>``) and
      the step executor redirects the dataset to the mounted path with :meth:`with_folder`.
      A saved output is registered as a new version of the asset by Azure ML.
    * **Locally** (``kedro run``, or in Python) a load downloads the asset version once into
      ``root_dir/<name>/<version>/`` and reads it from there; later loads use that cache. A
      save writes ``root_dir/<name>/local/`` (nothing is registered), and loads of the same
      dataset object read what was saved.

    The version loaded is, first match wins: ``--load-versions <dataset>:<version>``,
    ``azureml_version``, else the latest one (resolved once per dataset object; the compiler
    resolves it once per job). The workspace for local downloads is ``workspace`` or the one
    the plugin binds from ``azureml.yml`` (:meth:`with_workspace`).

    Example usage for the `YAML API <https://docs.kedro.org/en/stable/catalog-data/data_catalog_yaml_examples/>`_:

    .. code-block:: yaml

        companies:
          type: kedro_azureml.datasets.AzureMLAssetDataset
          azureml_dataset: companies        # the data asset's name in the workspace
          azureml_type: uri_folder
          azureml_version: "3"              # leave out for the latest version
          root_dir: data/01_raw             # local download cache
          dataset:
            type: pandas.CSVDataset
            filepath: companies.csv         # inside the asset's folder

    Example usage for the `Python API <https://docs.kedro.org/en/stable/catalog-data/advanced_data_catalog_usage/>`_:

    .. code-block:: pycon

        >>> import pandas as pd
        >>> from kedro_azureml.datasets import AzureMLAssetDataset
        >>>
        >>> data = pd.DataFrame({"col1": [1, 2], "col2": [4, 5]})
        >>> dataset = AzureMLAssetDataset(
        ...     azureml_dataset="companies",
        ...     dataset={"type": "pandas.CSVDataset", "filepath": "companies.csv"},
        ...     root_dir=str(tmp_path),
        ... )
        >>> dataset.save(data)  # locally: root_dir/companies/local/companies.csv
        >>> reloaded = dataset.load()
        >>> assert data.equals(reloaded)
        >>> mounted = dataset.with_folder(str(tmp_path / "mounted"))
        >>> mounted.path == tmp_path / "mounted" / "companies.csv"
        True
    """

    DEFAULT_ROOT_DIR: ClassVar[str] = "data"
    DEFAULT_FILEPATH_ARG: ClassVar[str] = "filepath"
    DEFAULT_AZUREML_TYPE: ClassVar[str] = "uri_folder"
    LOCAL_SAVE_FOLDER: ClassVar[str] = "local"
    # Kedro then always passes ``version``, so ``--load-versions`` works without
    # ``versioned: true`` in the catalog.
    versioned: ClassVar[bool] = True

    def __init__(
        self,
        *,
        azureml_dataset: str,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str = DEFAULT_ROOT_DIR,
        filepath_arg: str = DEFAULT_FILEPATH_ARG,
        azureml_type: str = DEFAULT_AZUREML_TYPE,
        azureml_version: str | int | None = None,
        workspace: Mapping[str, str] | Workspace | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates a new instance of ``AzureMLAssetDataset``.

        Args:
            azureml_dataset: The data asset's name in the Azure ML workspace.
            dataset: The dataset that reads and writes the files: a type
                (``"pandas.CSVDataset"``) or its config dict, whose ``filepath_arg`` is
                relative to the asset's folder.
            root_dir: Local folder of downloaded asset versions and of local saves.
            filepath_arg: The wrapped dataset's argument that takes its path.
            azureml_type: ``uri_folder`` (a folder of files) or ``uri_file`` (one file).
            azureml_version: The version to load; ``None`` or ``"latest"`` for the newest.
            workspace: ``subscription_id``, ``resource_group`` and ``workspace_name`` for
                local downloads; bound by the plugin from ``azureml.yml`` when left out. An
                empty ``subscription_id`` is taken from ``$AZURE_SUBSCRIPTION_ID``.
            version: Set by Kedro; its ``load`` comes from ``--load-versions``.
            metadata: Any arbitrary metadata; ignored by Kedro.
        """
        owner = f"{type(self).__name__}({azureml_dataset})"
        self._dataset_config = wrapped_dataset_config(dataset, owner=owner)
        relative = relative_filepath(self._dataset_config, filepath_arg, owner=owner)
        if filepath_arg in self._dataset_config:
            self._dataset_config[filepath_arg] = relative
        if azureml_type == "uri_file" and not PurePosixPath(relative).name:
            raise DatasetError(f"{owner}: a uri_file asset needs '{filepath_arg}' (a file name).")
        load_version = version.load if version else None
        self._spec = AssetSpec(
            azureml_dataset,
            azureml_type,
            normalize_version(load_version) or normalize_version(azureml_version),
        )
        self._init_kwargs: dict[str, Any] = {
            "azureml_dataset": azureml_dataset,
            "dataset": self._dataset_config,
            "root_dir": root_dir,
            "filepath_arg": filepath_arg,
            "azureml_type": azureml_type,
            "azureml_version": self._spec.version,
            "workspace": workspace,
            "metadata": metadata,
        }
        self._root_dir = Path(root_dir)
        self._filepath_arg = filepath_arg
        # A uri_file asset is one file: only the file name of ``filepath`` matters.
        self._relative_path = (
            PurePosixPath(relative).name if azureml_type == "uri_file" else relative
        )
        self._workspace: Workspace | None = None
        if isinstance(workspace, Workspace):
            self._workspace = workspace
        elif workspace:
            self._workspace = Workspace.from_mapping(workspace)
        self.metadata = metadata
        self._mounted: Path | None = None
        self._resolved_version: str | None = self._spec.version
        self._saved_locally = False

    # ------------------------------------------------------------------ binding
    @property
    def asset(self) -> AssetSpec:
        """The asset and its pinned version (``None``: latest, not resolved yet)."""
        return self._spec

    @property
    def path(self) -> Path:
        """Where the wrapped dataset reads right now (a download may still be needed)."""
        if self._mounted is not None:
            return self._mounted_path(self._mounted)
        if self._saved_locally or self._resolved_version is None:
            return self._local_folder(self.LOCAL_SAVE_FOLDER) / self._relative_path
        return self._local_folder(self._resolved_version) / self._relative_path

    def with_folder(self, folder: str) -> AzureMLAssetDataset:
        """The same dataset reading and writing ``folder``, the path Azure ML mounted for it.

        For a ``uri_file`` input Azure ML mounts the file itself, so an existing file is read
        as it is; otherwise the file is ``folder/<file name of filepath>``.
        """
        bound = self._copy()
        bound._mounted = Path(folder)
        return bound

    def with_version(self, version: str) -> AzureMLAssetDataset:
        """The same dataset pinned to ``version`` (e.g. resolved once for a whole run)."""
        return self._copy(azureml_version=version)

    def with_workspace(self, workspace: Workspace | Mapping[str, str]) -> AzureMLAssetDataset:
        """The same dataset downloading from ``workspace`` (a
        :class:`~kedro_azureml.config.Workspace`, or its three names as a mapping)."""
        return self._copy(workspace=workspace)

    def _copy(self, **changes: Any) -> AzureMLAssetDataset:
        return type(self)(**{**self._init_kwargs, **changes})

    # ------------------------------------------------------------------ paths
    def _local_folder(self, version: str) -> Path:
        return self._root_dir / self._spec.name / version

    def _mounted_path(self, mounted: Path) -> Path:
        # Azure ML mounts a uri_file input as the file itself; outputs are folders.
        if self._spec.type == "uri_file" and mounted.is_file():
            return mounted
        return mounted / self._relative_path

    def _inner(self, path: Path) -> AbstractDataset:
        config = {**self._dataset_config, self._filepath_arg: str(path)}
        return build_dataset(config, owner=f"{type(self).__name__}({self._spec.name})")

    # ------------------------------------------------------------------ local downloads
    def _require_workspace(self) -> Workspace:
        if self._workspace is None:
            raise DatasetError(
                f"Cannot download data asset '{self._spec.name}': no Azure ML workspace. Run "
                "inside a Kedro project with conf/<env>/azureml.yml, or give the dataset "
                "'workspace: {subscription_id, resource_group, workspace_name}'."
            )
        return self._workspace

    def _cached_folder(self) -> Path:
        """The local copy of the version to load, downloaded unless it is already there."""
        if self._resolved_version is not None:
            cached = self._local_folder(self._resolved_version)
            if cached.is_dir():
                return cached
        connection = connect(self._require_workspace())
        location = locate_asset(
            connection, AssetSpec(self._spec.name, self._spec.type, self._resolved_version)
        )
        self._resolved_version = location.version
        cached = self._local_folder(location.version)
        if not cached.is_dir():
            file_name = self._relative_path if self._spec.type == "uri_file" else ""
            download_asset(connection, location, cached, file_name)
        return cached

    # ------------------------------------------------------------------ dataset API
    def load(self) -> Any:
        if self._mounted is not None or self._saved_locally:
            return self._inner(self.path).load()
        return self._inner(self._cached_folder() / self._relative_path).load()

    def save(self, data: Any) -> None:
        if self._mounted is not None:
            self._inner(self.path).save(data)
            return
        self._inner(self._local_folder(self.LOCAL_SAVE_FOLDER) / self._relative_path).save(data)
        self._saved_locally = True

    def _exists(self) -> bool:
        if self._mounted is not None or self._saved_locally:
            return self._inner(self.path).exists()
        if (
            self._resolved_version is not None
            and self._local_folder(self._resolved_version).is_dir()
        ):
            return True
        if self._workspace is None:
            return False
        from azure.core.exceptions import ResourceNotFoundError

        spec = AssetSpec(self._spec.name, self._spec.type, self._resolved_version)
        try:  # ask the workspace; downloading is left to load()
            locate_asset(connect(self._workspace), spec)
        except ResourceNotFoundError:
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        return {
            "azureml_dataset": self._spec.name,
            "azureml_type": self._spec.type,
            "azureml_version": self._resolved_version or "latest",
            "dataset": str(self._dataset_config["type"]),
            "root_dir": str(self._root_dir),
            "mounted": str(self._mounted) if self._mounted is not None else None,
        }


def resolve_asset_versions(
    ml_client: Any, datasets: Mapping[str, AzureMLAssetDataset | AssetSpec]
) -> dict[str, str]:
    """The version each dataset reads, by dataset name: pinned versions as they are, and
    ``latest`` looked up once per asset (one ``GET`` of the asset), so every step of a job
    reads the same version.
    """
    latest: dict[str, str] = {}
    resolved: dict[str, str] = {}
    for name, item in sorted(datasets.items()):
        spec = item.asset if isinstance(item, AzureMLAssetDataset) else item
        if spec.version is not None:
            resolved[name] = spec.version
            continue
        if spec.name not in latest:
            latest[spec.name] = str(ml_client.data.get(spec.name, label="latest").version)
        resolved[name] = latest[spec.name]
    return resolved
