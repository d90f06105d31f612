"""Payments tables, one module per sub-domain: counter.py (counter payments, late-fee
waivers), bank.py (bank collection batches and files), collection.py (walking collection),
deposit.py (prepaid deposits and their transfers)."""

from .bank import (  # noqa: F401
    Bank,
    BankBatch,
    BankBatchLine,
    BankResult,
    BatchState,
    FileEncoding,
    FileFormat,
    LineEnding,
    LineState,
    SummaryPlace,
)
from .collection import InspectionTransfer, Remittance, RemittanceLine  # noqa: F401
from .counter import (  # noqa: F401
    CounterMethod,
    CounterPayment,
    CounterPaymentLine,
    LateFeeWaiver,
    WaiverLimit,
)
from .deposit import (  # noqa: F401
    Deposit,
    DepositChannel,
    DepositCorrection,
    DepositTransfer,
    TransferRun,
    TransferTrigger,
    TransferUndo,
)
