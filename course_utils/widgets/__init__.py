"""Interactive explorers, one per chapter; see :mod:`course_utils.widgets.base` for the contract."""

from course_utils.widgets.activation_explorer import ActivationExplorer, activation_explorer
from course_utils.widgets.base import Explorer
from course_utils.widgets.init_explorer import InitExplorer, init_explorer
from course_utils.widgets.whitening_explorer import WhiteningExplorer, whitening_explorer

__all__ = ["Explorer", "ActivationExplorer", "activation_explorer", "InitExplorer",
           "init_explorer", "WhiteningExplorer", "whitening_explorer"]
