/* placeholder: train */
