/* placeholder: hparams */
