"""Interactive explorers, one per chapter; see :mod:`course_utils.widgets.base` for the contract."""

from course_utils.widgets.activation_explorer import ActivationExplorer, activation_explorer
from course_utils.widgets.base import Explorer
from course_utils.widgets.batchnorm_explorer import BatchNormExplorer, batchnorm_explorer
from course_utils.widgets.dropout_explorer import DropoutExplorer, dropout_explorer
from course_utils.widgets.init_explorer import InitExplorer, init_explorer
from course_utils.widgets.optimizer_explorer import OptimizerExplorer, optimizer_explorer
from course_utils.widgets.sanity_explorer import SanityExplorer, sanity_explorer
from course_utils.widgets.schedule_explorer import ScheduleExplorer, schedule_explorer
from course_utils.widgets.whitening_explorer import WhiteningExplorer, whitening_explorer

__all__ = ["Explorer",
           "ActivationExplorer", "activation_explorer",      # 01
           "WhiteningExplorer", "whitening_explorer",        # 02
           "InitExplorer", "init_explorer",                  # 03
           "BatchNormExplorer", "batchnorm_explorer",        # 04
           "OptimizerExplorer", "optimizer_explorer",        # 05
           "ScheduleExplorer", "schedule_explorer",          # 06
           "DropoutExplorer", "dropout_explorer",            # 07
           "SanityExplorer", "sanity_explorer"]              # 08
