"""Registry of SSL losses written from their papers' formulas (see :class:`LossInfo`).

>>> from ssl_props.losses import get_loss
>>> get_loss("vicreg").family
'dimension-contrastive'
"""
from ssl_props.losses import barlow_twins as _barlow_twins, contrastive as _contrastive, criteria as _criteria  # noqa: F401
from ssl_props.losses import predictor as _predictor, vicreg as _vicreg  # noqa: F401
from ssl_props.losses import coding_rate as _coding_rate, hypersphere as _hypersphere, whitening as _whitening  # noqa: F401
from ssl_props.losses import distillation as _distillation, prototypes as _prototypes, queue as _queue  # noqa: F401
from ssl_props.losses import regularisers as _regularisers, supervised as _supervised  # noqa: F401
from ssl_props.losses._registry import LOSSES, LossInfo, get_loss, register_loss
from ssl_props.losses.barlow_twins import barlow_twins
from ssl_props.losses.coding_rate import coding_rate, emp_ssl, mmcr, tcr
from ssl_props.losses.contrastive import dcl, dcl_abs, dcl_sq, dclw, infonce_cross_view, simclr, simclr_abs, simclr_sq, spectral_contrastive
from ssl_props.losses.hypersphere import align_uniform
from ssl_props.losses.criteria import dimension_contrastive, extract_diag, lc, lnc, sample_contrastive
from ssl_props.losses.predictor import byol, simsiam
from ssl_props.losses.vicreg import vicreg, vicreg_ctr, vicreg_exp
from ssl_props.losses.whitening import tico, wmse
from ssl_props.losses.distillation import DinoCentredLoss, dino, dino_center_update, dino_multicrop, dino_teacher_temperature
from ssl_props.losses.prototypes import sinkhorn_knopp, swav, swav_multicrop
from ssl_props.losses.queue import moco, moco_v3
from ssl_props.losses.regularisers import koleo, koleo_batch, lejepa, sigreg, sigreg_batch
from ssl_props.losses.supervised import supcon

__all__ = ["LOSSES", "LossInfo", "get_loss", "register_loss", "align_uniform", "barlow_twins", "byol", "coding_rate",
           "dcl", "dcl_abs", "dcl_sq", "dclw", "dimension_contrastive", "emp_ssl", "mmcr", "tcr", "tico", "wmse",
           "extract_diag", "infonce_cross_view", "lc", "lnc", "sample_contrastive", "simclr", "simclr_abs",
           "simclr_sq", "simsiam", "spectral_contrastive", "vicreg", "vicreg_ctr", "vicreg_exp",
           # the shapes of issue 21 (teacher-student, prototype scores, single-batch regularisers, queues, labels)
           "DinoCentredLoss", "dino", "dino_center_update", "dino_multicrop", "dino_teacher_temperature", "koleo",
           "koleo_batch", "lejepa", "moco", "moco_v3", "sigreg", "sigreg_batch", "sinkhorn_knopp", "supcon", "swav",
           "swav_multicrop"]
