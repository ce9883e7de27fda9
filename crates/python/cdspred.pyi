"""cdspred: which short DNA reads from bacteria and archaea are protein-coding, on which
strand and in which reading frame. The model is embedded in the extension module; the
results are those of ``cdspred predict``."""

from os import PathLike
from typing import Iterator, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

def version() -> str:
    """The package version (that of the cdspred it was built from)."""

class Read:
    """One read's result: the columns of ``cdspred predict``'s TSV and more."""

    id: str
    """First word of the header (or the id given, or ``seqN``)."""
    length: int
    """Length in nt."""
    coding_prob: float
    """P(the read lies in a protein-coding gene, either strand); NaN when too short."""
    sense_prob: float
    """P(the read as given is the coding strand); NaN when too short."""
    strand: str
    """``+``, ``-``, or ``.`` when not scored."""
    frame: Optional[int]
    """Offset (0, 1, 2) of the first full codon on the sense strand; None when not scored."""
    call: str
    """``coding``, ``noncoding`` or ``too_short``."""
    frameshifts: list[tuple[int, str]]
    """Frame shifts on the reported frame path: (bases before it, ``ins``/``del``)."""
    features: list[str]
    """IDs ``{seqid}_{start}_{end}_{strand}`` of its coding segments (as in GFF3/faa/ffn)."""
    protein: Optional[str]
    """The protein along the frame path (coding reads only)."""

class ReadIter(Iterator[Read]):
    """The reads of a file, predicted chunk by chunk."""

    def __iter__(self) -> "ReadIter": ...
    def __next__(self) -> Read: ...

class Predictor:
    """Predicts which reads are protein-coding, on which strand and frame.

    ``table``: NCBI genetic code (1-33; 11 bacteria/archaea, 4 Mycoplasma).
    ``threads``: worker threads, 0 = all cores (results do not depend on it).
    ``model``: a model directory (default: the embedded model).
    ``threshold``: a read is ``coding`` when coding_prob >= threshold.
    ``errors``: what the model is told about sequencing errors: ``auto`` surveys the
    first reads of each call or file as ``cdspred predict`` does, ``unknown`` tells
    nothing, a profile name (``none``, ``sub1``, ``adna``, ``illumina``, ``indel1``,
    ``homopolymer1``, ...) tells that profile.

    Raises ValueError for an unknown table, profile, or a threshold outside 0-1.
    The GIL is released while predicting.
    """

    def __init__(
        self,
        table: int = 11,
        threads: int = 0,
        model: Optional[Union[str, PathLike[str]]] = None,
        threshold: float = 0.5,
        errors: str = "auto",
    ) -> None: ...
    @property
    def model_version(self) -> str: ...
    @property
    def weights_sha256(self) -> str: ...
    @property
    def table(self) -> int: ...
    @property
    def threads(self) -> int: ...
    def predict(
        self,
        sequences: Sequence[Union[str, bytes]],
        ids: Optional[Sequence[str]] = None,
    ) -> list[Read]:
        """Predicts each sequence; ``Read`` results in order. Raises ValueError naming
        the record and position of an invalid base or an empty sequence."""
    def predict_arrays(
        self, sequences: Sequence[Union[str, bytes]]
    ) -> dict[str, npt.NDArray[np.generic]]:
        """Columns as NumPy arrays: ``length`` (int64), ``coding_prob``, ``sense_prob``
        (float32, NaN when too short), ``strand`` (int8: 1, -1, 0), ``frame`` (int8:
        0-2, -1), ``coding``, ``too_short`` (bool), ``frameshifts`` (int32)."""
    def predict_file(self, path: str) -> ReadIter:
        """Iterates over a FASTA/FASTQ file (plain, gzip or zstd; ``-`` = stdin),
        predicting chunk by chunk without loading it. Raises ValueError with the CLI's
        message (file, record, line) when a bad record is reached."""
