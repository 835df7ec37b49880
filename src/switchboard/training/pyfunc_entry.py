"""MLflow models-from-code entry point: MLflow executes this file to build the pyfunc model,
so nothing is cloudpickled. Only MLflow loads it; nothing imports it.
"""

from mlflow.models import set_model

from switchboard.training.pyfunc import SwitchboardPyfunc

set_model(SwitchboardPyfunc())
