from flask.cli import AppGroup

products = AppGroup("products", help="Products (SKUs) and their points rules.")
codes = AppGroup("codes", help="Batches of package codes.")
